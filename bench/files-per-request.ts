/**
 * `node build/bench/files-per-request.js [driver]`: which files of the library one request runs (sorted by name),
 * for a request that changes the session (a counter) and one that only reads it. Uses
 * V8's precise coverage (call counts) around the request alone, after a warm-up, so what it lists is what ran.
 */
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import express from 'express';
import type { Request, Response } from 'express';
import { session } from '../src';

const driver = (process.argv[2] ?? 'memory') as 'memory' | 'file';
const sourceRoot = join(__dirname, '..', 'src');

interface FunctionCoverage {
  functionName: string;
  ranges: Array<{ count: number }>;
}

async function filesRunBy(inspector: Session, request: () => Promise<unknown>): Promise<string[]> {
  await inspector.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await inspector.post('Profiler.takePreciseCoverage');
  await request();
  const { result } = (await inspector.post('Profiler.takePreciseCoverage')) as {
    result: Array<{ url: string; functions: FunctionCoverage[] }>;
  };
  await inspector.post('Profiler.stopPreciseCoverage');
  return result
    .filter((script) => script.url.startsWith(`file://${sourceRoot}`))
    .filter((script) => script.functions.some((fn) => fn.ranges[0]!.count > 0))
    .map((script) => relative(sourceRoot, new URL(script.url).pathname).replace(/\.js$/, '.ts'))
    .sort();
}

async function main(): Promise<void> {
  const app = express();
  app.use(session({ secret: 'a benchmark secret that is long enough', driver, logger: console }));
  app.get('/counter', (request: Request, response: Response) => {
    const data = request.session as unknown as { n?: number };
    data.n = (data.n ?? 0) + 1;
    response.send(String(data.n));
  });
  app.get('/read', (request: Request, response: Response) => {
    response.send(String((request.session as unknown as { n?: number }).n));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const first = await fetch(`${url}/counter`);
  const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
  const get = (path: string) =>
    fetch(`${url}${path}`, { headers: { cookie } }).then((answer) => answer.text());
  for (let warm = 0; warm < 20; warm += 1) await get('/counter');
  const inspector = new Session();
  inspector.connect();
  await inspector.post('Profiler.enable');
  for (const path of ['/counter', '/read']) {
    const files = await filesRunBy(inspector, () => get(path));
    console.log(`${driver} ${path}: ${files.length} files of src/\n  ${files.join('\n  ')}`);
  }
  inspector.disconnect();
  server.close();
}

void main();
