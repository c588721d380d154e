/**
 * `npm run bench`: starts each server in its own process, one after another and interleaved over several
 * rounds (A B C … A B C …), drives each with autocannon (same connections, duration and cookies for all),
 * and writes the medians and ratios to bench/results.md and bench/results.svg.
 * Each measured run follows a warm-up of the same workload that is not counted (BENCH_WARMUP seconds, 1 by
 * default), so servers are compared once their code is compiled, as bench/ab.ts compares them.
 * BENCH_ROUNDS, BENCH_DURATION (seconds) and BENCH_CONNECTIONS override the defaults; BENCH_SERVERS and
 * BENCH_WORKLOADS (comma-separated parts of names) pick a subset; BENCH_PROFILE=1 runs the servers under
 * --cpu-prof (profiles in bench/profiles/); BENCH_PER_REQUEST sets the requests of the allocation and promise
 * pass (bench/per-request.ts; 0 leaves it out).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { barChartSvg } from './chart';
import { cpuTimeOf, median, removeRedisKeys } from './drive';
import { leanColors } from './lean/kinds';
import { leanLines, leanTargets } from './lean-report';
import { measurePerRequest, perRequestCount, perRequestLines } from './per-request';
import type { ServerKind } from './servers';
import { postgresTables, redisPrefixes, serverKinds } from './servers';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const duration = Number(process.env.BENCH_DURATION ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Seconds of the same workload before each measured run, not counted: the servers are compared warm. */
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const sessionsCreated = 10_000;
const profile = process.env.BENCH_PROFILE === '1';
const benchDirectory = join(__dirname, '..', '..', 'bench');
/** What the profiles showed, written by hand after a run; appended to results.md. */
const notesPath = join(benchDirectory, 'profile-notes.md');
/** How to measure where the microseconds go, cut by cut (the ladder); appended to results.md. */
const ladderPath = join(benchDirectory, 'ladder.md');

const workloads = {
  '(a) counter': { path: '/counter', withCookie: true },
  '(b) read user': { path: '/user', withCookie: true },
  '(c) no session': { path: '/plain', withCookie: false },
  '(d) new sessions': { path: '/login', withCookie: false, amount: sessionsCreated },
  '(e) 40 KB + counter': { path: '/counter', withCookie: true, login: '/login-large' },
} as const;
type Workload = keyof typeof workloads;

interface Measurement {
  requestsPerSecond: number;
  p99: number;
  errors: number;
  /** CPU time of the server process per request (user + system): steadier than req/s on a shared machine. */
  cpuMicroseconds: number;
}

function redisAnswers(): boolean {
  try {
    return execFileSync('redis-cli', ['-h', '127.0.0.1', 'ping'], { encoding: 'utf8' }).trim() === 'PONG';
  } catch {
    return false;
  }
}

function postgresAnswers(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-q']);
    return true;
  } catch {
    return false;
  }
}

function dropPostgresTables(): void {
  const drop = `DROP TABLE IF EXISTS ${postgresTables.join(', ')}`;
  execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-qc', drop], { stdio: 'ignore' });
}

interface StartedServer {
  child: ChildProcess;
  url: string;
}

async function startServer(kind: ServerKind): Promise<StartedServer> {
  const flags = profile ? ['--cpu-prof', '--cpu-prof-dir', join(benchDirectory, 'profiles')] : [];
  const child = spawn(process.execPath, [...flags, join(__dirname, 'servers.js'), kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, url: `http://127.0.0.1:${(JSON.parse(line.toString()) as { port: number }).port}` };
}

async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** One logged-in session per connection, so the connections act as different users. */
async function loginCookies(url: string, loginPath = '/login'): Promise<string[]> {
  return Promise.all(
    Array.from({ length: connections }, async () => {
      const response = await fetch(`${url}${loginPath}`);
      return response.headers.get('set-cookie')?.split(';')[0] ?? '';
    }),
  );
}

async function measure(server: StartedServer, workload: Workload, cookies: string[]): Promise<Measurement> {
  const { url, child } = server;
  const { path, withCookie } = workloads[workload];
  const amount =
    'amount' in workloads[workload] ? (workloads[workload] as { amount: number }).amount : undefined;
  let nextCookie = 0;
  const options = (run: { amount: number } | { duration: number }): autocannon.Options => ({
    url: `${url}${path}`,
    connections,
    ...run,
    setupClient: (client) => {
      if (withCookie) client.setHeaders({ cookie: cookies[nextCookie++ % cookies.length]! });
    },
  });
  if (warmup > 0) await runAutocannon(options({ duration: warmup }));
  const cpuBefore = cpuTimeOf(child.pid!);
  const started = performance.now();
  let lastResponseAt = started;
  // autocannon notices that `amount` is reached on a one-second tick: time the last response instead.
  const result = await runAutocannon(options(amount ? { amount } : { duration }), () => {
    lastResponseAt = performance.now();
  });
  const seconds = (lastResponseAt - started) / 1000;
  return {
    requestsPerSecond: amount ? result.requests.total / seconds : result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpuMicroseconds: (cpuTimeOf(child.pid!) - cpuBefore) / Math.max(1, result.requests.total),
  };
}

function runAutocannon(options: autocannon.Options, onResponse?: () => void): Promise<autocannon.Result> {
  return new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, finished) => (error ? reject(error) : resolve(finished)));
    if (onResponse) instance.on('response', onResponse);
  });
}

/** Whether a comma-separated filter in the environment variable picks `name` (no filter picks all). */
function picked(variable: string, name: string): boolean {
  const filter = process.env[variable];
  return !filter || filter.split(',').some((part) => name.includes(part.trim()));
}

const counterparts: Partial<Record<ServerKind, ServerKind>> = {
  'rcs memory': 'express-session memory',
  'rcs file': 'express-session file',
  'rcs redis': 'express-session redis',
  'rcs postgres': 'express-session postgres',
  'rcs memory + decorators': 'express-session memory',
};

/** Greys for the baselines, reds for express-session, blues and green for this library. */
const colors: Record<ServerKind, string> = {
  'bare express': '#616161',
  'express + no-op middleware': '#bdbdbd',
  'express-session memory': '#ef9a9a',
  'express-session file': '#e57373',
  'express-session redis': '#b71c1c',
  'express-session postgres': '#880e4f',
  'rcs memory': '#90caf9',
  'rcs file': '#42a5f5',
  'rcs redis': '#0d47a1',
  'rcs postgres': '#4a148c',
  'rcs memory + decorators': '#26a69a',
  ...leanColors,
};

function format(value: number | undefined, digits = 0): string {
  return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}

function redisBytesPerSession(): string {
  const script = join(__dirname, 'redis-per-session.js');
  return execFileSync(process.execPath, [script, '100000'], { encoding: 'utf8' }).trim();
}

function memoryPerSession(): string {
  const script = join(__dirname, 'memory-per-session.js');
  return execFileSync(process.execPath, ['--expose-gc', script, '100000'], { encoding: 'utf8' }).trim();
}

async function main(): Promise<void> {
  const withRedis = redisAnswers();
  const withPostgres = postgresAnswers();
  const kinds = serverKinds.filter(
    (kind) =>
      (withRedis || !kind.includes('redis')) &&
      (withPostgres || !kind.includes('postgres')) &&
      picked('BENCH_SERVERS', kind),
  );
  if (!withRedis) console.log('Redis does not answer on 127.0.0.1:6379: the redis servers are left out.');
  if (!withPostgres)
    console.log('PostgreSQL does not answer on 127.0.0.1:5432: the postgres servers are left out.');
  if (withPostgres) dropPostgresTables();
  const chosenWorkloads = (Object.keys(workloads) as Workload[]).filter((workload) =>
    picked('BENCH_WORKLOADS', workload),
  );
  const samples = new Map<string, Measurement[]>();
  for (let round = 1; round <= rounds; round += 1) {
    for (const kind of kinds) {
      const server = await startServer(kind);
      const cookies = await loginCookies(server.url);
      for (const workload of chosenWorkloads) {
        const { login } = workloads[workload] as { login?: string };
        const measurement = await measure(
          server,
          workload,
          login ? await loginCookies(server.url, login) : cookies,
        );
        const key = `${kind}|${workload}`;
        samples.set(key, [...(samples.get(key) ?? []), measurement]);
        console.log(
          `round ${round}/${rounds}  ${kind.padEnd(24)} ${workload.padEnd(19)} ${format(measurement.requestsPerSecond).padStart(7)} req/s  p99 ${measurement.p99} ms  ${format(measurement.cpuMicroseconds)} µs CPU/req${measurement.errors ? `  ${measurement.errors} errors` : ''}`,
        );
      }
      await stopServer(server.child);
      if (withRedis) removeRedisKeys(redisPrefixes);
      if (kind.includes('postgres')) dropPostgresTables();
    }
  }
  const routes = chosenWorkloads.map((workload) => [workload, workloads[workload]] as const);
  const perRequest =
    perRequestCount > 0
      ? await measurePerRequest(kinds, routes, connections, () => withRedis && removeRedisKeys(redisPrefixes))
      : new Map();

  const medianOf = (kind: ServerKind, workload: Workload, pick: (sample: Measurement) => number) => {
    const values = samples.get(`${kind}|${workload}`);
    return values ? median(values.map(pick)) : undefined;
  };
  const rate = (kind: ServerKind, workload: Workload) =>
    medianOf(kind, workload, (sample) => sample.requestsPerSecond);
  const cpu = (kind: ServerKind, workload: Workload) =>
    medianOf(kind, workload, (sample) => sample.cpuMicroseconds);
  const lines = [
    `# Benchmark results`,
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}) · Node ${process.version} · ` +
      `${rounds} interleaved rounds · ${connections} connections · ${duration} s per run after ${warmup} s of warm-up (workload (d): ${sessionsCreated} new sessions) · ` +
      'autocannon in the same machine as the server.',
    '',
    'req/s is the median over the rounds; p99 is the median of each run’s 99th-percentile latency. CPU is the ' +
      'server process’s own CPU time (user + system) per request, median over the rounds: autocannon shares the ' +
      'two cores, so it is the steadier of the two measures; "by CPU" is the counterpart’s CPU per request ÷ ours.',
    '',
    '| server | workload | req/s | p99 ms | CPU µs/req | × bare express | × express-session counterpart | × counterpart by CPU |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ratio = (kind: ServerKind, workload: Workload, base: ServerKind) => {
    const own = rate(kind, workload);
    const other = rate(base, workload);
    return own && other ? own / other : undefined;
  };
  const cpuRatio = (kind: ServerKind, workload: Workload, base: ServerKind) => {
    const own = cpu(kind, workload);
    const other = cpu(base, workload);
    return own && other ? other / own : undefined;
  };
  for (const workload of chosenWorkloads) {
    for (const kind of kinds) {
      const counterpart = counterparts[kind];
      lines.push(
        `| ${kind} | ${workload} | ${format(rate(kind, workload))} | ${format(medianOf(kind, workload, (sample) => sample.p99))} | ` +
          `${format(cpu(kind, workload))} | ${format(ratio(kind, workload, 'bare express'), 2)} | ` +
          `${format(counterpart && ratio(kind, workload, counterpart), 2)} | ${format(counterpart && cpuRatio(kind, workload, counterpart), 2)} |`,
      );
    }
  }
  lines.push('', ...leanLines(kinds, chosenWorkloads, rate, cpu, perRequest));
  if (perRequest.size > 0) lines.push('', ...perRequestLines(kinds, chosenWorkloads, perRequest));
  const memory = memoryPerSession();
  lines.push('', '## Memory per idle session', '', '```', memory, '```');
  const redisBytes = withRedis ? redisBytesPerSession() : 'Redis did not answer: not measured.';
  lines.push('', '## Redis memory per idle session', '', '```', redisBytes, '```');
  const versus = (kind: ServerKind, workload: Workload) => {
    const counterpart = counterparts[kind]!;
    return [ratio(kind, workload, counterpart), cpuRatio(kind, workload, counterpart)] as const;
  };
  const targets: Array<[string, readonly [number | undefined, number | undefined], number]> = [
    ['redis ÷ connect-redis, (a) writes', versus('rcs redis', '(a) counter'), 1.2],
    ['redis ÷ connect-redis, (b) reads', versus('rcs redis', '(b) read user'), 1.2],
    ['redis ÷ connect-redis, (e) 40 KB session + counter', versus('rcs redis', '(e) 40 KB + counter'), 2],
    ['postgres ÷ connect-pg-simple, (a) writes', versus('rcs postgres', '(a) counter'), 1.5],
    ['postgres ÷ connect-pg-simple, (b) reads', versus('rcs postgres', '(b) read user'), 1],
    ['memory ÷ express-session MemoryStore, (a) writes', versus('rcs memory', '(a) counter'), 1.1],
    ['memory ÷ express-session MemoryStore, (b) reads', versus('rcs memory', '(b) read user'), 1.1],
    ['file ÷ session-file-store, (a) writes', versus('rcs file', '(a) counter'), 2],
    ['file ÷ session-file-store, (b) reads', versus('rcs file', '(b) read user'), 3],
    [
      'no session ÷ bare express, (c), memory',
      [
        ratio('rcs memory', '(c) no session', 'bare express'),
        cpuRatio('rcs memory', '(c) no session', 'bare express'),
      ],
      0.95,
    ],
  ];
  targets.push(...leanTargets(kinds, chosenWorkloads, rate, cpu));
  const verdict = (measured: number | undefined, goal: number) =>
    measured === undefined
      ? 'not measured'
      : measured >= goal
        ? 'met'
        : `missed by ${((1 - measured / goal) * 100).toFixed(0)} %`;
  lines.push(
    '',
    '## Targets',
    '',
    '| target | goal | by req/s | verdict | by CPU | verdict |',
    '| --- | ---: | ---: | --- | ---: | --- |',
  );
  for (const [name, [byRate, byCpu], goal] of targets) {
    lines.push(
      `| ${name} | ${goal}× | ${format(byRate, 2)}× | ${verdict(byRate, goal)} | ${format(byCpu, 2)}× | ${verdict(byCpu, goal)} |`,
    );
  }
  if (existsSync(notesPath)) lines.push('', readFileSync(notesPath, 'utf8').trim());
  if (existsSync(ladderPath)) lines.push('', readFileSync(ladderPath, 'utf8').trim());
  const table = lines.join('\n');
  console.log(`\n${table}\n`);
  mkdirSync(benchDirectory, { recursive: true });
  writeFileSync(join(benchDirectory, 'results.md'), `${table}\n`);
  writeFileSync(
    join(benchDirectory, 'results.svg'),
    barChartSvg(
      `Sessions under load, ${cpus().length} cores, Node ${process.version}`,
      chosenWorkloads,
      kinds,
      (workload, kind) => rate(kind as ServerKind, workload as Workload),
      (kind) => colors[kind as ServerKind],
    ),
  );
  console.log('Written: bench/results.md, bench/results.svg');
}

void main();
