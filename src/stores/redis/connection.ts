import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duration, SessionStoreOptions } from '../../config/options';
import { durationOption } from '../../config/options';
import { withDeadline } from '../../store/deadline';
import { SessionConfigError } from '../../errors';

export type RedisOptions = NonNullable<SessionStoreOptions['redis']>;

/** The parts of a node-redis client the driver uses. */
export interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  sendCommand<T>(args: string[]): Promise<T>;
  on(event: string, listener: (error?: unknown) => void): unknown;
}

/** The parts of a node-redis cluster client (`createCluster()`) the driver uses. */
interface RedisClusterClient extends Omit<RedisClient, 'sendCommand'> {
  readonly masters: unknown[];
  nodeClient(node: unknown): Promise<RedisClient>;
  sendCommand<T>(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<T>;
}

type AnyRedisClient = RedisClient | RedisClusterClient;

interface RedisModule {
  createClient(options: object): RedisClient;
  createCluster(options: object): RedisClusterClient;
}

function isCluster(client: AnyRedisClient): client is RedisClusterClient {
  return typeof (client as Partial<RedisClusterClient>).nodeClient === 'function';
}

/** A client, single node or cluster, as one way to send a command about a key, and the nodes to SCAN. */
interface Route {
  client: AnyRedisClient;
  send<T>(key: string | undefined, args: string[]): Promise<T>;
  nodes(): Promise<RedisClient[]>;
}

function routeOf(client: AnyRedisClient): Route {
  if (!isCluster(client)) {
    return { client, send: (_key, args) => client.sendCommand(args), nodes: async () => [client] };
  }
  return {
    client,
    send: (key, args) => client.sendCommand(key, false, args),
    nodes: () => Promise.all(client.masters.map((master) => client.nodeClient(master))),
  };
}

const scriptHashes = new Map<string, string>();
function sha1Of(script: string): string {
  let hash = scriptHashes.get(script);
  if (!hash) scriptHashes.set(script, (hash = createHash('sha1').update(script).digest('hex')));
  return hash;
}

function requireInstalled(): void {
  try {
    require.resolve('redis');
  } catch {
    throw new SessionConfigError("driver 'redis' needs the redis package (node-redis): npm install redis");
  }
}

/**
 * The driver's connection to Redis: the `redis` package (node-redis) is loaded on first use, so apps without
 * Redis need not install it; or a client the app made and owns (never connected or closed here). Every command
 * is bounded by `commandTimeout`, and commands are not queued while Redis is unreachable: an outage fails fast.
 */
export class RedisConnection extends EventEmitter {
  readonly displayUrl: string;
  private readonly url: string;
  private readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  private readonly appClient: AnyRedisClient | undefined;
  private readonly clusterUrls: string[] | undefined;
  private route: Promise<Route> | undefined;
  /** The route once made, for commands sent while its client is ready (no wait for `ready()`). */
  private madeRoute: Route | undefined;
  private connecting: Promise<unknown> | undefined;
  private outageReported = false;

  constructor(options: RedisOptions) {
    super();
    this.appClient = options.client as AnyRedisClient | undefined;
    this.clusterUrls = options.cluster;
    if (!this.appClient) requireInstalled();
    this.url = options.url ?? options.cluster?.[0] ?? 'redis://127.0.0.1:6379';
    this.displayUrl = this.appClient
      ? 'the client in redis.client'
      : this.url.replace(/\/\/[^@/]*@/, '//***@');
    this.connectTimeoutMs = durationOption('redis.connectTimeout', options.connectTimeout as Duration, '1s');
    this.commandTimeoutMs = durationOption('redis.commandTimeout', options.commandTimeout as Duration, '1s');
    if (this.appClient) {
      this.madeRoute = routeOf(this.appClient);
      this.route = Promise.resolve(this.madeRoute);
    }
  }

  private async createRoute(): Promise<Route> {
    const { createClient, createCluster } = (await import('redis')) as unknown as RedisModule;
    const clientOptions = {
      disableOfflineQueue: true,
      // every command is bounded by commandTimeout here, with one shared timer; node-redis 6 would otherwise
      // arm an AbortSignal timer of its own for each command
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.connectTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    };
    const client: AnyRedisClient = this.clusterUrls
      ? createCluster({ rootNodes: this.clusterUrls.map((url) => ({ url })), defaults: clientOptions })
      : createClient({ url: this.url, ...clientOptions });
    client.on('error', (error) => {
      if (this.outageReported) return;
      this.outageReported = true;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    client.on('ready', () => (this.outageReported = false));
    return (this.madeRoute = routeOf(client));
  }

  /** The route, ready for a command; while Redis is unreachable the client reconnects in the background. */
  private async ready(): Promise<Route> {
    if (this.appClient && !this.appClient.isReady) {
      throw new Error('the Redis client given in redis.client is not ready');
    }
    this.route ??= this.createRoute();
    const route = await this.route;
    const { client } = route;
    if (client.isReady) return route;
    if (!client.isOpen) this.connecting ??= client.connect().finally(() => (this.connecting = undefined));
    if (this.connecting) await this.connecting;
    if (!client.isReady) throw new Error(`Redis at ${this.displayUrl} is unreachable; reconnecting`);
    return route;
  }

  /** Runs one command about `key` (which routes it on a cluster), failing when Redis does not answer in time. */
  send<T>(key: string | undefined, args: string[]): Promise<T> {
    const route = this.madeRoute;
    if (route?.client.isReady === true) return this.bounded(route.send<T>(key, args));
    // loading the redis package (about a second on a loaded machine) is not Redis's answer time
    if (!route && !this.appClient) {
      return (this.route ??= this.createRoute()).then(() =>
        this.bounded(this.ready().then((ready) => ready.send<T>(key, args))),
      );
    }
    return this.bounded(this.ready().then((ready) => ready.send<T>(key, args)));
  }

  private bounded<T>(sent: Promise<T>): Promise<T> {
    return withDeadline(
      sent,
      this.commandTimeoutMs,
      () => `Redis at ${this.displayUrl} did not answer within ${this.commandTimeoutMs} ms`,
    );
  }

  /** Runs a Lua script by its hash, loading it the first time Redis does not know it. */
  script<T>(script: string, key: string, args: string[]): Promise<T> {
    return this.send<T>(key, ['EVALSHA', sha1Of(script), '1', key, ...args]).catch((error: unknown) => {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.send<T>(key, ['EVAL', script, '1', key, ...args]);
    });
  }

  /** Every Redis key matching `pattern`, a SCAN page at a time on each node (each master of a cluster). */
  async *scan(pattern: string): AsyncGenerator<string[], void> {
    if (!this.appClient) await (this.route ??= this.createRoute());
    const nodes = await this.bounded(this.ready().then((route) => route.nodes()));
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.sendCommand<[string, string[]]>([
          'SCAN',
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          '500',
        ]);
        yield keys;
        cursor = next;
      } while (cursor !== '0');
    }
  }

  async close(): Promise<void> {
    const route = this.route;
    this.route = undefined;
    this.madeRoute = undefined;
    if (route && !this.appClient) (await route).client.destroy();
  }
}
