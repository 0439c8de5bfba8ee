/** One bar: Tidewire ÷ baseline for one scenario. */
export interface RatioBar {
  readonly scenario: string;
  /** `undefined`: not measured in this run (drawn as "—"). */
  readonly ratio: number | undefined;
  /** Whether a larger ratio is better for Tidewire (throughput) or worse (latency, memory). */
  readonly higherIsBetter: boolean;
  /** The target for this ratio, drawn as a tick, if there is one. */
  readonly target?: number;
}

/** The bars of one pair (a Tidewire subject against one baseline). */
export interface RatioGroup {
  readonly pair: string;
  readonly bars: readonly RatioBar[];
}

const ROW = 18;
const LABEL_W = 290;
const PLOT_W = 420;
const VALUE_W = 70;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart of ratios (SVG text, no dependencies): one block per pair, one bar per
 * scenario, a line at 1.0× (parity with the baseline), a tick at the target. Bars are green where
 * Tidewire is better than the baseline, red where it is worse. The scale is logarithmic (0.25×…4×,
 * clamped), so 0.5× and 2× are the same distance from parity.
 *
 * @param title shown on top (the run: date, machine, quick or full)
 * @param groups the pairs and their bars, in drawing order
 * @returns the SVG document as a string
 */
export function ratiosSvg(title: string, groups: readonly RatioGroup[]): string {
  const lo = Math.log2(0.25);
  const hi = Math.log2(4);
  const x = (ratio: number): number => LABEL_W + ((Math.min(hi, Math.max(lo, Math.log2(ratio))) - lo) / (hi - lo)) * PLOT_W;
  const rows = groups.reduce((n, g) => n + g.bars.length + 1, 0);
  const height = 40 + rows * ROW + 30;
  const width = LABEL_W + PLOT_W + VALUE_W + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  let y = 36;
  for (const g of groups) {
    out.push(`<text x="8" y="${y + 12}" font-weight="bold">${esc(g.pair)}</text>`);
    y += ROW;
    for (const b of g.bars) {
      out.push(`<text x="20" y="${y + 12}">${esc(b.scenario)} (${b.higherIsBetter ? 'higher' : 'lower'} is better)</text>`);
      if (b.ratio === undefined || !Number.isFinite(b.ratio) || b.ratio <= 0) {
        out.push(`<text x="${LABEL_W + PLOT_W + 6}" y="${y + 12}">—</text>`);
      } else {
        const better = b.higherIsBetter ? b.ratio >= 1 : b.ratio <= 1;
        const [a, c] = [x(1), x(b.ratio)].sort((p, q) => p - q) as [number, number];
        out.push(`<rect x="${a.toFixed(1)}" y="${y + 3}" width="${Math.max(1, c - a).toFixed(1)}" height="${ROW - 6}" fill="${better ? '#3a9d5d' : '#d0543f'}"/>`);
        out.push(`<text x="${LABEL_W + PLOT_W + 6}" y="${y + 12}">${b.ratio.toFixed(2)}×</text>`);
      }
      if (b.target !== undefined) {
        const tx = x(b.target).toFixed(1);
        out.push(`<line x1="${tx}" x2="${tx}" y1="${y + 1}" y2="${y + ROW - 1}" stroke="#000" stroke-width="2"/>`);
      }
      y += ROW;
    }
  }
  // The parity line and the scale.
  out.push(`<line x1="${x(1)}" x2="${x(1)}" y1="32" y2="${y}" stroke="#555" stroke-dasharray="3,3"/>`);
  for (const r of [0.25, 0.5, 1, 2, 4]) out.push(`<text x="${x(r)}" y="${y + 14}" text-anchor="middle">${r}×</text>`);
  out.push(`<text x="${LABEL_W}" y="${y + 26}" fill="#555">Tidewire ÷ baseline, log scale; black tick: target; green: better than the baseline</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
