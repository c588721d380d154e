/** The results against the lean reference (bench/lean/): ours ÷ lean, by req/s and by server CPU. */
import type { LeanKind } from './lean/kinds';
import type { PerRequest } from './per-request';
import type { ServerKind } from './servers';

export const leanCounterparts: Partial<Record<ServerKind, LeanKind>> = {
  'rcs memory': 'lean memory',
  'rcs file': 'lean file',
  'rcs redis': 'lean redis',
};

type Median<W> = (kind: ServerKind, workload: W) => number | undefined;

export interface LeanRatios {
  byRate: number | undefined;
  byCpu: number | undefined;
}

export function leanRatios<W>(kind: ServerKind, workload: W, rate: Median<W>, cpu: Median<W>): LeanRatios {
  const lean = leanCounterparts[kind]!;
  const [ownRate, leanRate, ownCpu, leanCpu] = [
    rate(kind, workload),
    rate(lean, workload),
    cpu(kind, workload),
    cpu(lean, workload),
  ];
  return {
    byRate: ownRate && leanRate ? ownRate / leanRate : undefined,
    byCpu: ownCpu && leanCpu ? leanCpu / ownCpu : undefined,
  };
}

const format = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

/** One row per store and workload where both ours and the lean reference ran. */
export function leanLines<W extends string>(
  kinds: readonly ServerKind[],
  workloads: readonly W[],
  rate: Median<W>,
  cpu: Median<W>,
  perRequest: Map<string, PerRequest>,
): string[] {
  const lines = [
    '## Against the lean reference',
    '',
    'The lean reference (bench/lean/) is our design with the least work per request, measured in the same ' +
      'interleaved rounds: "× lean" is ours ÷ lean by req/s, and lean’s CPU per request ÷ ours by CPU (above 1: ' +
      'ours is cheaper). Allocation and promises per request are from the pass below (ours / lean).',
    '',
    '| ours | workload | req/s ours / lean | × lean by req/s | CPU µs/req ours / lean | × lean by CPU | KB allocated/req ours / lean | promises/req ours / lean |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const perRequestOf = (
    kind: ServerKind,
    workload: W,
    pick: (value: PerRequest) => number,
    digits: number,
  ) => {
    const value = perRequest.get(`${kind}|${workload}`);
    return value ? format(pick(value), digits) : '–';
  };
  for (const workload of workloads) {
    for (const kind of kinds) {
      const lean = leanCounterparts[kind];
      if (!lean || !kinds.includes(lean)) continue;
      const { byRate, byCpu } = leanRatios(kind, workload, rate, cpu);
      const both = (pick: (value: PerRequest) => number, digits: number) =>
        `${perRequestOf(kind, workload, pick, digits)} / ${perRequestOf(lean, workload, pick, digits)}`;
      lines.push(
        `| ${kind} | ${workload} | ${format(rate(kind, workload))} / ${format(rate(lean, workload))} | ${format(byRate, 2)} | ` +
          `${format(cpu(kind, workload))} / ${format(cpu(lean, workload))} | ${format(byCpu, 2)} | ` +
          `${both((value) => value.bytes / 1024, 1)} | ${both((value) => value.promises, 1)} |`,
      );
    }
  }
  return lines;
}

/** Targets: ours ≥ 0.9× the lean reference on every workload, one row per store naming its worst workload. */
export function leanTargets<W extends string>(
  kinds: readonly ServerKind[],
  workloads: readonly W[],
  rate: Median<W>,
  cpu: Median<W>,
): Array<[string, readonly [number | undefined, number | undefined], number]> {
  const targets: Array<[string, readonly [number | undefined, number | undefined], number]> = [];
  for (const kind of kinds) {
    const lean = leanCounterparts[kind];
    if (!lean || !kinds.includes(lean)) continue;
    const ratios = workloads.map((workload) => [workload, leanRatios(kind, workload, rate, cpu)] as const);
    const worst = (pick: (ratios: LeanRatios) => number | undefined) =>
      ratios.reduce<readonly [W, number] | undefined>((found, [workload, ratio]) => {
        const value = pick(ratio);
        return value !== undefined && (!found || value < found[1]) ? [workload, value] : found;
      }, undefined);
    const [byRate, byCpu] = [worst((ratio) => ratio.byRate), worst((ratio) => ratio.byCpu)];
    targets.push([
      `${kind} ÷ ${lean}, every workload (worst by req/s: ${byRate?.[0] ?? '–'}; by CPU: ${byCpu?.[0] ?? '–'})`,
      [byRate?.[1], byCpu?.[1]],
      0.9,
    ]);
  }
  return targets;
}
