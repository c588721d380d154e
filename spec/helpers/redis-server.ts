import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after } from 'node:test';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A redis-server of the test's own on a spare port, which the test may stop, freeze and start again. */
export class OwnRedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArguments: string[] = [],
  ) {}

  static async start(extraArguments: string[] = []): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), extraArguments);
    await server.start();
    after(() => server.stop());
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        ...this.extraArguments,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.process = child;
    let output = '';
    while (!output.includes('Ready to accept connections')) {
      const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
      output += chunk.toString();
    }
    child.stdout!.resume();
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  /** Stops answering without closing connections, as a hung server does. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }
}

/**
 * A Redis Cluster of the test's own: three masters on spare ports, no replicas, stopped (and their cluster
 * config files removed) when the file's tests end. Resolves to the nodes' URLs once every slot is served.
 */
export async function startRedisCluster(): Promise<string[]> {
  const directory = mkdtempSync(join(tmpdir(), 'rcs-cluster-'));
  after(() => rmSync(directory, { recursive: true, force: true }));
  const nodes = await Promise.all(
    [0, 1, 2].map((index) =>
      OwnRedisServer.start([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(directory, `node-${index}.conf`),
      ]),
    ),
  );
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  execFileSync(
    'redis-cli',
    ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
    {
      stdio: 'ignore',
    },
  );
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const states = nodes.map((node) =>
      execFileSync('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { encoding: 'utf8' }),
    );
    if (states.every((state) => state.includes('cluster_state:ok'))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return nodes.map((node) => node.url);
}

/** Whether redis-server and redis-cli are installed. */
export function redisToolsInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    execFileSync('redis-cli', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
