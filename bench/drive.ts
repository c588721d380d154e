/**
 * Starting a bench server (`build/bench/servers.js` of any build of this repo) in its own process and driving
 * it with autocannon: what the A/B tool and the per-request measurement share.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface BenchServer {
  child: ChildProcess;
  url: string;
}

/** A route driven with one cookie per connection (or none), `path` after a login on `login`. */
export interface Route {
  path: string;
  withCookie: boolean;
  login?: string;
}

/** The routes of bench/servers.ts, by short name. */
export const routes: Record<string, Route> = {
  counter: { path: '/counter', withCookie: true },
  user: { path: '/user', withCookie: true },
  plain: { path: '/plain', withCookie: false },
  login: { path: '/login', withCookie: false },
  large: { path: '/counter', withCookie: true, login: '/login-large' },
};

/** CPU time a process has used so far, in microseconds (Linux /proc; NaN elsewhere). */
export function cpuTimeOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

/** Starts `node [flags] <serversScript> <kind>`; with `ipc`, the child gets an IPC channel as well. */
export async function startBenchServer(
  serversScript: string,
  kind: string,
  options: { flags?: string[]; ipc?: boolean } = {},
): Promise<BenchServer> {
  const child = spawn(process.execPath, [...(options.flags ?? []), serversScript, kind], {
    stdio: ['ignore', 'pipe', 'inherit', ...(options.ipc ? (['ipc'] as const) : [])],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const [line] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the bench server ${kind} (${serversScript}) exited with ${String(code)}`);
    }),
  ])) as [Buffer];
  return { child, url: `http://127.0.0.1:${(JSON.parse(line.toString()) as { port: number }).port}` };
}

export async function stopBenchServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** One logged-in session per connection, so the connections act as different users. */
export async function loginCookies(
  url: string,
  connections: number,
  loginPath = '/login',
): Promise<string[]> {
  return Promise.all(
    Array.from({ length: connections }, async () => {
      const response = await fetch(`${url}${loginPath}`);
      return response.headers.get('set-cookie')?.split(';')[0] ?? '';
    }),
  );
}

export interface Driven {
  requests: number;
  errors: number;
  /** CPU time of the server process per request (user + system), in microseconds. */
  cpuMicroseconds: number;
}

/** Drives `path` for `duration` seconds, or for `amount` requests, with one cookie of `cookies` per connection. */
export async function drive(
  server: BenchServer,
  route: Route,
  cookies: string[],
  load: { connections: number; duration?: number; amount?: number },
): Promise<Driven> {
  let nextCookie = 0;
  let responses = 0;
  const cpuBefore = cpuTimeOf(server.child.pid!);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${server.url}${route.path}`,
        connections: load.connections,
        // autocannon notices that `amount` is reached on its sampling tick (a second by default)
        ...(load.amount ? { amount: load.amount, sampleInt: 50 } : { duration: load.duration ?? 3 }),
        setupClient: (client) => {
          if (route.withCookie) client.setHeaders({ cookie: cookies[nextCookie++ % cookies.length]! });
        },
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', () => (responses += 1));
  });
  return {
    requests: responses,
    errors: result.errors + result.non2xx,
    cpuMicroseconds: (cpuTimeOf(server.child.pid!) - cpuBefore) / Math.max(1, responses),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Deletes the bench servers' keys under these prefixes in the Redis of 127.0.0.1:6379. */
export function removeRedisKeys(prefixes: readonly string[]): void {
  for (const prefix of prefixes) {
    const keys = execFileSync('redis-cli', ['-h', '127.0.0.1', '--scan', '--pattern', `${prefix}*`], {
      encoding: 'utf8',
      // a round of new sessions leaves tens of thousands of keys: more than the default 1 MB of output
      maxBuffer: 512 * 1024 * 1024,
    })
      .split('\n')
      .filter(Boolean);
    for (let start = 0; start < keys.length; start += 500) {
      execFileSync('redis-cli', ['-h', '127.0.0.1', 'del', ...keys.slice(start, start + 500)]);
    }
  }
}
