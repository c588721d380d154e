/**
 * `node build/bench/ab.js <treeA> <treeB> [--kind 'rcs memory'] [--kind-b <kind>] [--workload counter,user,plain]
 * [--rounds 5] [--duration 3] [--warmup 1] [--connections 16]`: the A/B step of the ladder (bench/ladder.md). Each
 * tree is a checkout of this repo with its bench built (`<tree>/build/bench/servers.js`); B runs `--kind-b` when
 * given (one tree twice and two kinds: how far ours is from bare Express). Every round starts one server
 * of each tree, then measures each workload on A and B in turn (A first in odd rounds, B first in even ones),
 * after a warm-up that is not counted. Reported: the median CPU µs per request of each server process, and
 * B − A per round (median, and the lowest and highest of the rounds: the spread).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchServer, Driven, Route } from './drive';
import {
  drive,
  loginCookies,
  median,
  removeRedisKeys,
  routes,
  startBenchServer,
  stopBenchServer,
} from './drive';
import { redisPrefixes } from './servers';

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: node build/bench/ab.js <treeA> <treeB> [--kind 'rcs memory'] [--kind-b <kind>] ` +
      `[--workload ${Object.keys(routes).join(',')}] [--rounds 5] [--duration 3] [--warmup 1] [--connections 16]`,
  );
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kind: { type: 'string', default: 'rcs memory' },
    'kind-b': { type: 'string' },
    workload: { type: 'string', default: 'counter,user,plain' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '16' },
  },
});
if (positionals.length !== 2) usage('Give two trees, A and B.');
const trees = positionals.map((tree) => resolve(tree));
const scripts = trees.map((tree) => join(tree, 'build', 'bench', 'servers.js'));
const kinds = [values.kind, values['kind-b'] ?? values.kind];
for (const script of scripts)
  if (!existsSync(script)) usage(`${script} does not exist: run npm run build there.`);
const workloadNames = values.workload.split(',').map((name) => name.trim());
for (const name of workloadNames) if (!routes[name]) usage(`Unknown workload ${name}.`);
const [rounds, duration, warmup, connections] = [
  values.rounds,
  values.duration,
  values.warmup,
  values.connections,
].map(Number) as [number, number, number, number];

async function measureOn(server: BenchServer, route: Route): Promise<Driven> {
  const cookies = route.withCookie ? await loginCookies(server.url, connections, route.login) : [];
  if (warmup > 0) await drive(server, route, cookies, { connections, duration: warmup });
  return drive(server, route, cookies, { connections, duration });
}

async function main(): Promise<void> {
  /** CPU µs per request, by workload, of A ([0]) and B ([1]), one entry per round. */
  const samples = new Map(workloadNames.map((name) => [name, [[], []] as [number[], number[]]]));
  for (let round = 1; round <= rounds; round += 1) {
    const servers = [
      await startBenchServer(scripts[0]!, kinds[0]),
      await startBenchServer(scripts[1]!, kinds[1]),
    ];
    const order = round % 2 === 1 ? [0, 1] : [1, 0];
    for (const name of workloadNames) {
      for (const side of order) {
        const driven = await measureOn(servers[side]!, routes[name]!);
        samples.get(name)![side]!.push(driven.cpuMicroseconds);
        console.log(
          `round ${round}/${rounds}  ${side === 0 ? 'A' : 'B'}  ${name.padEnd(8)} ${driven.cpuMicroseconds.toFixed(1).padStart(7)} µs CPU/req` +
            `  ${driven.requests} requests${driven.errors ? `  ${driven.errors} errors` : ''}`,
        );
      }
    }
    await Promise.all(servers.map((server) => stopBenchServer(server.child)));
    if (kinds.some((kind) => kind.includes('redis'))) removeRedisKeys(redisPrefixes);
  }
  console.log(
    `\nA = ${trees[0]} (${kinds[0]})\nB = ${trees[1]} (${kinds[1]})\n${rounds} rounds of ${duration} s, ${connections} connections\n`,
  );
  console.log(
    '| workload | A µs/req | B µs/req | B − A µs/req (median of rounds) | spread of B − A | B ÷ A |',
  );
  console.log('| --- | ---: | ---: | ---: | --- | ---: |');
  for (const name of workloadNames) {
    const [a, b] = samples.get(name)!;
    const differences = b.map((value, index) => value - a[index]!);
    const [medianA, medianB] = [median(a), median(b)];
    console.log(
      `| ${name} | ${medianA.toFixed(1)} | ${medianB.toFixed(1)} | ${median(differences).toFixed(1)} | ` +
        `${Math.min(...differences).toFixed(1)} … ${Math.max(...differences).toFixed(1)} | ${(medianB / medianA).toFixed(3)} |`,
    );
  }
}

void main();
