/**
 * `node build/bench/profile-summary.js <file.cpuprofile> [count]`: the functions with the most self time in a
 * profile written by `node --cpu-prof` (BENCH_PROFILE=1 npm run bench), with their share of all samples.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function topSelfTime(profilePath: string, count = 25): string[] {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as { nodes: ProfileNode[] };
  const totals = new Map<string, number>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    all += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/build\//, '')}:${lineNumber + 1}`;
    totals.set(place, (totals.get(place) ?? 0) + hits);
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([place, hits]) => `${((hits / all) * 100).toFixed(1).padStart(5)}%  ${place}`);
}

/** The share of all samples spent inside (at any depth below) functions whose file path contains `part`. */
export function inclusiveShare(profilePath: string, part: string): number {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as { nodes: ProfileNode[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let inside = 0;
  let all = 0;
  const visit = (node: ProfileNode, within: boolean) => {
    const here = within || node.callFrame.url.includes(part);
    const hits = node.hitCount ?? 0;
    all += hits;
    if (here) inside += hits;
    for (const child of node.children ?? []) visit(byId.get(child)!, here);
  };
  visit(profile.nodes[0]!, false);
  return inside / all;
}

if (require.main === module) {
  const [profilePath, count, ...parts] = process.argv.slice(2);
  if (!profilePath) throw new Error('usage: profile-summary <file.cpuprofile> [count] [path parts…]');
  console.log(topSelfTime(profilePath, Number(count ?? 25)).join('\n'));
  for (const part of parts) {
    console.log(
      `${(inclusiveShare(profilePath, part) * 100).toFixed(1).padStart(5)}%  inside ${part} (inclusive)`,
    );
  }
}
