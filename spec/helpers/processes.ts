import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after } from 'node:test';
import type { SessionOptions } from '../../src';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
}

/** Starts the test app (or another server of spec/fixtures) in a separate node process; the caller kills it. */
async function spawnServerChild(
  options: SessionOptions,
  fixture: string,
  launch: (node: string, script: string) => string[],
  started: (child: ChildProcess) => void,
): Promise<ServerProcess> {
  const serverScript = join(__dirname, '..', 'fixtures', `${fixture}.js`);
  const [command, ...args] = launch(process.execPath, serverScript);
  const child = spawn(command!, args, {
    env: { ...process.env, SESSION_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started(child);
  const [firstLine] = (await once(child.stdout, 'data')) as [Buffer];
  const { port } = JSON.parse(firstLine.toString()) as { port: number };
  return { url: `http://127.0.0.1:${port}`, child };
}

/**
 * Starts the test app (or another server of spec/fixtures) in a separate node process. It is killed when
 * the test (or the file's tests) that started it ends.
 */
export function startServerChild(
  options: SessionOptions,
  fixture = 'session-server',
  /** The command that runs node on the script (by default node itself): e.g. inside a PID namespace. */
  launch: (node: string, script: string) => string[] = (node, script) => [node, script],
): Promise<ServerProcess> {
  return spawnServerChild(options, fixture, launch, (child) => after(() => child.kill('SIGKILL')));
}

/**
 * One server process for all the tests of a describe block (call it in the block itself): started by the first
 * test that asks, killed when the block ends. Starting a process costs a second or more under load.
 */
export function serverChildOfSuite(options: SessionOptions, fixture: string): () => Promise<ServerProcess> {
  let server: Promise<ServerProcess> | undefined;
  let child: ChildProcess | undefined;
  after(() => child?.kill('SIGKILL'));
  return () =>
    (server ??= spawnServerChild(
      options,
      fixture,
      (node, script) => [node, script],
      (started) => (child = started),
    ));
}

/** Starts the test app in a separate node process; resolves to its base URL. */
export async function startServerProcess(options: SessionOptions): Promise<string> {
  return (await startServerChild(options)).url;
}
