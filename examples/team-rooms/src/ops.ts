/**
 * The operator dashboard: reads the Prometheus text of `/metrics` every 2 s and shows a few
 * figures, plus what the server last relayed per room (ciphertext for `secret:` rooms).
 */

/** Sum of every sample of `metric` (all label sets), from Prometheus text exposition. */
export function sumOf(text: string, metric: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] === metric) sum += Number(match[3]);
  }
  return sum;
}

const FIGURES: ReadonlyArray<readonly [label: string, metric: string]> = [
  ['Sessions', 'tidewire_sessions'],
  ['Channels', 'tidewire_channels'],
  ['Messages stored', 'tidewire_publishes_total'],
  ['Frames in', 'tidewire_frames_in_total'],
  ['Frames out', 'tidewire_frames_out_total'],
  ['Bytes in', 'tidewire_bytes_in_total'],
  ['Bytes out', 'tidewire_bytes_out_total'],
  ['Requests refused', 'tidewire_refused_total'],
];

async function refresh(): Promise<void> {
  const text = await (await fetch('/metrics')).text();
  document.querySelector('#figures')!.replaceChildren(
    ...FIGURES.flatMap(([label, metric]) => {
      const dt = Object.assign(document.createElement('dt'), { textContent: label });
      const dd = Object.assign(document.createElement('dd'), { textContent: String(sumOf(text, metric)) });
      dd.dataset.metric = metric;
      return [dt, dd];
    }),
  );
  const relayed = (await (await fetch('/ops/relayed')).json()) as Record<string, string>;
  document.querySelector('#relayed')!.replaceChildren(
    ...Object.entries(relayed).map(([channel, data]) => {
      const row = document.createElement('tr');
      row.dataset.channel = channel;
      row.append(Object.assign(document.createElement('td'), { textContent: channel }), Object.assign(document.createElement('td'), { textContent: data }));
      return row;
    }),
  );
}

const tick = () => refresh().catch(() => {}).finally(() => setTimeout(tick, 2000));
if (typeof document !== 'undefined') tick();
