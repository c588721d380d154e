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

/**
 * Starts the test app (or another server of spec/fixtures) in a separate node process. It is killed when
 * the file's tests end.
 */
export async function startServerChild(
  options: SessionOptions,
  fixture = 'session-server',
  /** The command that runs node on the script (by default node itself): e.g. inside a PID namespace. */
  launch: (node: string, script: string) => string[] = (node, script) => [node, script],
): Promise<ServerProcess> {
  const serverScript = join(__dirname, '..', 'fixtures', `${fixture}.js`);
  const [command, ...args] = launch(process.execPath, serverScript);
  const child = spawn(command!, args, {
    env: { ...process.env, SESSION_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => {
    child.kill('SIGKILL');
  });
  const [firstLine] = (await once(child.stdout, 'data')) as [Buffer];
  const { port } = JSON.parse(firstLine.toString()) as { port: number };
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Starts the test app in a separate node process; resolves to its base URL. */
export async function startServerProcess(options: SessionOptions): Promise<string> {
  return (await startServerChild(options)).url;
}
