/**
 * `node build/bench/instructions.js <tree> [<tree>…] [--kind 'rcs memory'] [--workload counter,user,plain]
 * [--requests 1000] [--warmup 3000] [--connections 16]`: instructions per request of a bench server, counted by
 * valgrind's callgrind, for a ladder step that CPU time cannot tell from the noise of a busy 2-core machine: a
 * count does not move with what else the machine is doing, and several counts can run at once. Each tree's
 * server runs under callgrind (about 50 times slower) with V8 on one thread (`--single-threaded`: no compiler or
 * GC threads whose work would land in the count at random); after `--warmup` requests the counters are zeroed,
 * `--requests` requests are sent and the counters dumped: the server process's instructions ÷ requests.
 * The same tree counted twice agreed within 0.2 %. Two limits: instructions are not time (a cache miss or an
 * allocation costs more than its count), and a major GC that falls inside the window adds its whole count to
 * it, so different code can move the count by where its GCs fall; confirm a step with bench/ab.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchServer, Route } from './drive';
import { drive, loginCookies, removeRedisKeys, routes, stopBenchServer } from './drive';
import { redisPrefixes } from './servers';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kind: { type: 'string', default: 'rcs memory' },
    workload: { type: 'string', default: 'counter,user,plain' },
    requests: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '3000' },
    connections: { type: 'string', default: '16' },
  },
});
if (positionals.length === 0) {
  console.error(
    "usage: node build/bench/instructions.js <tree> [<tree>…] [--kind 'rcs memory'] [--workload counter,user,plain]",
  );
  process.exit(2);
}
const [requests, warmup, connections] = [values.requests, values.warmup, values.connections].map(Number) as [
  number,
  number,
  number,
];

/** Starts a tree's bench server under callgrind, counting nothing until the counters are zeroed. */
async function startCounted(tree: string, kind: string, outDirectory: string): Promise<BenchServer> {
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(outDirectory, 'callgrind.out.%p')}`,
      `--log-file=${join(outDirectory, 'valgrind.log')}`,
      process.execPath,
      // no compiler or GC threads: their work would land in the count at random moments
      '--single-threaded',
      join(tree, 'build', 'bench', 'servers.js'),
      kind,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, url: `http://127.0.0.1:${(JSON.parse(line.toString()) as { port: number }).port}` };
}

/** The instructions in the newest dump of a callgrind output folder (its `summary:` line). */
function instructionsDumped(outDirectory: string): number {
  const dumps = readdirSync(outDirectory)
    .filter((name) => /^callgrind\.out\.\d+\.\d+$/.test(name))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = readFileSync(join(outDirectory, dumps.at(-1)!), 'utf8');
  const summary = /^summary: (\d+)/m.exec(text);
  if (!summary) throw new Error(`no summary in ${dumps.at(-1)}`);
  return Number(summary[1]);
}

async function countedPerRequest(tree: string, route: Route): Promise<number> {
  const outDirectory = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
  const server = await startCounted(tree, values.kind, outDirectory);
  try {
    const cookies = route.withCookie ? await loginCookies(server.url, connections, route.login) : [];
    await drive(server, route, cookies, { connections, amount: warmup });
    const pid = String(server.child.pid);
    execFileSync('callgrind_control', ['--zero', pid], { stdio: 'ignore' });
    const driven = await drive(server, route, cookies, { connections, amount: requests });
    execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
    return instructionsDumped(outDirectory) / driven.requests;
  } finally {
    await stopBenchServer(server.child);
    if (values.kind.includes('redis')) removeRedisKeys(redisPrefixes);
  }
}

async function main(): Promise<void> {
  const trees = positionals.map((tree) => resolve(tree));
  const workloads = values.workload.split(',').map((name) => name.trim());
  console.log(`instructions per request (callgrind), ${values.kind}, ${requests} requests after ${warmup}\n`);
  console.log(`| workload | ${trees.join(' | ')} |`);
  console.log(`| --- |${trees.map(() => ' ---: |').join('')}`);
  for (const name of workloads) {
    const route = routes[name];
    if (!route) throw new Error(`unknown workload ${name}; one of ${Object.keys(routes).join(', ')}`);
    const counts: string[] = [];
    for (const tree of trees)
      counts.push(Math.round(await countedPerRequest(tree, route)).toLocaleString('en'));
    console.log(`| ${name} | ${counts.join(' | ')} |`);
  }
}

void main();
