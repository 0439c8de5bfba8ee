import type { RatioGroup } from './chart';
import { SUBJECT_LABELS, type SubjectId } from '../subjects';

/** What one subject measured in a run: one field per scenario (absent: not run or failed). */
export interface PushFigures {
  n: number;
  received: number;
  msgsPerSec: number;
  clientCpuUsPerMsg: number;
  serverCpuUsPerMsg: number;
  timedOut: boolean;
}
export interface RttFigures {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  timedOut: boolean;
}

export interface Row {
  subject: SubjectId;
  unavailable?: string;
  push?: PushFigures;
  /** The same push in one synchronous loop (no yield). */
  pushSync?: PushFigures;
  rtt?: RttFigures;
  /** RTT with the server and client processes pinned to one core. */
  rttPinned?: RttFigures;
  fan?: { clients: number; messages: number; p50: number; p99: number; mean: number; timedOut: boolean };
  mem?: {
    clients: number;
    clientRss: number;
    clientHeap: number;
    serverRss: number;
    serverHeap: number;
    /** Client RSS per connection again, in a process whose young generation cannot grow (`--max-semi-space-size=1`). */
    clientRssFixedYoung?: number;
  };
  errors: string[];
  warnings: string[];
}

export interface Target {
  name: string;
  subject: SubjectId;
  baseline: SubjectId;
  value: (r: Row) => number | undefined;
  /** Which of FIGURES it reads (for the chart's target ticks). */
  figure?: string;
  /** 'min': subject/baseline must be ≥ limit; 'max': ≤ limit. */
  kind: 'min' | 'max';
  limit: number;
}

/** The targets of issue 14 (Tidewire ÷ baseline in one run), then the older ones kept. */
export const TARGETS: Target[] = [
  { name: 'WS push, sync loop ≥ 1.0× raw ws', figure: 'pushSync', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.pushSync?.msgsPerSec, kind: 'min', limit: 1.0 },
  { name: 'long-polling push ≥ 1.5× socket.io polling (fetch)', figure: 'push', subject: 'tidewire-longpoll', baseline: 'socketio-polling-fetch', value: (r) => r.push?.msgsPerSec, kind: 'min', limit: 1.5 },
  { name: 'SSE push ≥ 1.0× raw SSE', figure: 'push', subject: 'tidewire-sse', baseline: 'sse', value: (r) => r.push?.msgsPerSec, kind: 'min', limit: 1.0 },
  { name: 'RTT p50, pinned to one core ≤ 1.2× raw ws', figure: 'rttPinned', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.rttPinned?.p50, kind: 'max', limit: 1.2 },
  { name: 'client heap/conn ≤ 1.5× raw ws', figure: 'clientHeap', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.mem?.clientHeap, kind: 'max', limit: 1.5 },
  { name: 'fan-out p50 ≤ 1.1× raw ws', figure: 'fan', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.fan?.p50, kind: 'max', limit: 1.1 },
  { name: 'Tidewire-WS push ≥ 0.9× raw ws', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.push?.msgsPerSec, kind: 'min', limit: 0.9 },
  { name: 'Tidewire-WS push ≥ 1.6× socket.io', subject: 'tidewire-ws', baseline: 'socketio-ws', value: (r) => r.push?.msgsPerSec, kind: 'min', limit: 1.6 },
  { name: 'Tidewire-WS RTT p50 ≤ 1.3× raw ws', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.rtt?.p50, kind: 'max', limit: 1.3 },
  { name: 'Tidewire-WS fan-out p50 ≤ 1.2× raw ws', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.fan?.p50, kind: 'max', limit: 1.2 },
  { name: 'Tidewire-WS client RSS/conn ≤ 1.25× raw ws', figure: 'clientRss', subject: 'tidewire-ws', baseline: 'ws', value: (r) => r.mem?.clientRss, kind: 'max', limit: 1.25 },
  { name: 'Tidewire-SSE push ≥ 0.9× raw SSE', subject: 'tidewire-sse', baseline: 'sse', value: (r) => r.push?.msgsPerSec, kind: 'min', limit: 0.9 },
  { name: 'Tidewire long polling push ≥ 3× socket.io polling', subject: 'tidewire-longpoll', baseline: 'socketio-polling', value: (r) => r.push?.msgsPerSec, kind: 'min', limit: 3 },
];

/** The figures the ratio chart shows, per scenario: label, how to read it, and which way is better. */
export const FIGURES: Record<string, { label: string; pick: (r: Row) => number | undefined; higherIsBetter: boolean }> = {
  push: { label: 'push, yielding every 1,000', pick: (r) => r.push?.msgsPerSec, higherIsBetter: true },
  pushSync: { label: 'push, one synchronous loop', pick: (r) => r.pushSync?.msgsPerSec, higherIsBetter: true },
  rtt: { label: 'RTT p50', pick: (r) => r.rtt?.p50, higherIsBetter: false },
  rttPinned: { label: 'RTT p50, pinned to one core', pick: (r) => r.rttPinned?.p50, higherIsBetter: false },
  fan: { label: 'fan-out p50', pick: (r) => r.fan?.p50, higherIsBetter: false },
  clientHeap: { label: 'client heap per connection', pick: (r) => r.mem?.clientHeap, higherIsBetter: false },
  clientRss: { label: 'client RSS per connection', pick: (r) => r.mem?.clientRss, higherIsBetter: false },
  clientRssFixedYoung: { label: 'client RSS per connection, 1 MB semi-space', pick: (r) => r.mem?.clientRssFixedYoung, higherIsBetter: false },
};

/** The ratio chart's bars: every Tidewire subject against every baseline that ran, per figure, with its target if any. */
export function chartGroups(rows: Row[]): RatioGroup[] {
  const ran = rows.filter((r) => !r.unavailable);
  const div = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && a > 0 && b > 0 ? a / b : undefined);
  const groups: RatioGroup[] = [];
  for (const t of ran.filter((r) => r.subject.startsWith('tidewire-'))) {
    for (const b of ran.filter((r) => !r.subject.startsWith('tidewire-'))) {
      groups.push({
        pair: `${SUBJECT_LABELS[t.subject]} ÷ ${SUBJECT_LABELS[b.subject]}`,
        bars: Object.entries(FIGURES).map(([key, f]) => {
          const limit = TARGETS.find((x) => x.subject === t.subject && x.baseline === b.subject && x.figure === key)?.limit;
          return { scenario: f.label, ratio: div(f.pick(t), f.pick(b)), higherIsBetter: f.higherIsBetter, ...(limit !== undefined && { target: limit }) };
        }),
      });
    }
  }
  return groups;
}

