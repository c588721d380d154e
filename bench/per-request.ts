/**
 * Bytes allocated and promises created per request in the server process, for each server kind and
 * workload: a pass of its own after the timed rounds (the probe slows the server), with the probe of
 * bench/per-request-probe.ts loaded into each server. Each workload is warmed up first, so the code measured
 * is the optimized code of the timed runs.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Route } from './drive';
import { drive, loginCookies, startBenchServer, stopBenchServer } from './drive';
import type { ProbeAnswer, ProbeCommand } from './per-request-probe';

export interface PerRequest {
  /** Bytes allocated per request (V8's sampled estimate, collected objects included). */
  bytes: number;
  promises: number;
}

/** Requests of each window: BENCH_PER_REQUEST (0 leaves the pass out). */
export const perRequestCount = Number(process.env.BENCH_PER_REQUEST ?? 1000);

function ask(child: ChildProcess, command: ProbeCommand): Promise<number | undefined> {
  return new Promise((resolve) => {
    const listen = (answer: ProbeAnswer) => {
      if (answer.command !== command) return;
      child.off('message', listen);
      resolve(answer.count);
    };
    child.on('message', listen);
    child.send(command);
  });
}

export async function measurePerRequest(
  kinds: readonly string[],
  routes: ReadonlyArray<readonly [string, Route]>,
  connections: number,
  afterServer: () => void,
  requests = perRequestCount,
): Promise<Map<string, PerRequest>> {
  const measured = new Map<string, PerRequest>();
  const flags = ['--require', join(__dirname, 'per-request-probe.js')];
  const promiseCount = Math.max(1, Math.round(requests / 4));
  for (const kind of kinds) {
    const server = await startBenchServer(join(__dirname, 'servers.js'), kind, { flags, ipc: true });
    for (const [workload, route] of routes) {
      const cookies = route.withCookie ? await loginCookies(server.url, connections, route.login) : [];
      const run = (amount: number) => drive(server, route, cookies, { connections, amount });
      await run(requests);
      await ask(server.child, 'start allocation');
      const allocationRun = await run(requests);
      const bytes = (await ask(server.child, 'stop allocation'))! / allocationRun.requests;
      await ask(server.child, 'start promises');
      const promiseRun = await run(promiseCount);
      const promises = (await ask(server.child, 'stop promises'))! / promiseRun.requests;
      measured.set(`${kind}|${workload}`, { bytes, promises });
      console.log(
        `per request  ${kind.padEnd(24)} ${workload.padEnd(19)} ${(bytes / 1024).toFixed(1).padStart(6)} KB allocated  ${promises.toFixed(1).padStart(5)} promises`,
      );
    }
    await stopBenchServer(server.child);
    afterServer();
  }
  return measured;
}

/** The table of bytes and promises per request of every kind and workload, beside bare Express's. */
export function perRequestLines(
  kinds: readonly string[],
  workloads: readonly string[],
  measured: Map<string, PerRequest>,
): string[] {
  const lines = [
    '## Allocation and promises per request',
    '',
    `Measured in a pass of their own after the timed rounds (${perRequestCount} requests per workload after as many ` +
      'to warm up, same connections and cookies), in the server process: **KB allocated** is V8’s sampling heap ' +
      'profiler’s estimate of all bytes allocated during the window (a sample per 4 KiB on average, objects already ' +
      'collected included), so it is allocation, not memory kept; **promises** are the PROMISE resources an async ' +
      `hook saw created (counted over ${Math.max(1, Math.round(perRequestCount / 4))} requests apart, as the hook ` +
      'slows every promise). Both include what Node’s HTTP server and Express do: compare with bare Express.',
    '',
    `| server | ${workloads.join(' | ')} |`,
    `| --- | ${workloads.map(() => '---:').join(' | ')} |`,
  ];
  for (const kind of kinds) {
    const cells = workloads.map((workload) => {
      const value = measured.get(`${kind}|${workload}`);
      return value ? `${(value.bytes / 1024).toFixed(1)} KB · ${value.promises.toFixed(1)}` : '–';
    });
    lines.push(`| ${kind} | ${cells.join(' | ')} |`);
  }
  lines.push('', 'Each cell: KB allocated · promises created, per request.');
  return lines;
}
