/**
 * Summarize a V8 .cpuprofile: the top functions by self time.
 *   tsx bench/lib/cpuprofile-top.ts file.cpuprofile [count]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface TopEntry {
  fn: string;
  where: string;
  selfMs: number;
  pct: number;
}

/** Shorten a profile URL to something a reader can find: the workspace path or the package path. */
function shortUrl(url: string): string {
  if (!url) return '(native)';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  else u = u.replace(/^.*\/work\/main\//, '');
  return u;
}

export function topSelf(profile: Profile, count = 15): { total: number; top: TopEntry[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = self.get(key) ?? { fn, where, us: 0 };
    e.us += dt;
    self.set(key, e);
  }
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: (100 * e.us) / total }));
  return { total: total / 1000, top };
}

export function formatTop(title: string, { total, top }: { total: number; top: TopEntry[] }): string {
  const lines = [`${title} — ${total.toFixed(0)} ms sampled, top ${top.length} by self time`, '', '| # | self ms | self % | function | location |', '|--:|--:|--:|:--|:--|'];
  top.forEach((e, i) => lines.push(`| ${i + 1} | ${e.selfMs.toFixed(1)} | ${e.pct.toFixed(1)} | \`${e.fn}\` | ${e.where ? `\`${e.where}\`` : ''} |`));
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpuprofile-top.ts file.cpuprofile [count]');
    process.exit(2);
  }
  console.log(formatTop(file, topSelf(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(count ?? 15))));
}
