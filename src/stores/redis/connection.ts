import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duration, SessionStoreOptions } from '../../config/options';
import { durationOption } from '../../config/options';
import type { PendingCall } from '../../store/deadline';
import { settled, stillPending, watchDeadline, withDeadline } from '../../store/deadline';
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

/** How a command's reply becomes its result, and its failure one (or, thrown, the error it fails with). */
export interface Answer<T, R> {
  reply(reply: T): R;
  failure?(error: unknown): R;
}

const asIs: Answer<unknown, unknown> = { reply: (reply) => reply };

/** Sends a command on a route, or on the route once it is ready; a throw becomes a rejection. */
function sendOn<T>(route: Route | Promise<Route>, key: string | undefined, args: string[]): Promise<T> {
  if (route instanceof Promise) return route.then((ready) => ready.send<T>(key, args));
  try {
    return route.send<T>(key, args);
  } catch (error) {
    return Promise.reject(error as Error);
  }
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

  /** The route, made on first use (loading the redis package). */
  private routeLoaded(): Promise<Route> {
    return (this.route ??= this.createRoute());
  }

  /** The route, ready for a command; while Redis is unreachable the client reconnects in the background. */
  private async ready(): Promise<Route> {
    if (this.appClient && !this.appClient.isReady) {
      throw new Error('the Redis client given in redis.client is not ready');
    }
    const route = await this.routeLoaded();
    const { client } = route;
    if (client.isReady) return route;
    if (!client.isOpen) this.connecting ??= client.connect().finally(() => (this.connecting = undefined));
    if (this.connecting) await this.connecting;
    if (!client.isReady) throw new Error(`Redis at ${this.displayUrl} is unreachable; reconnecting`);
    return route;
  }

  /** Runs one command about `key` (which routes it on a cluster), failing when Redis does not answer in time. */
  send<T>(key: string | undefined, args: string[]): Promise<T> {
    return this.command(key, args, asIs as Answer<T, T>);
  }

  /**
   * Runs one command about `key`, its reply (or failure) made into the result by `answer`, the whole within
   * one `commandTimeout`. For an EVALSHA of `script`, the script itself is sent after a NOSCRIPT failure.
   */
  command<T, R>(key: string | undefined, args: string[], answer: Answer<T, R>, script?: string): Promise<R> {
    const route = this.madeRoute;
    if (route?.client.isReady === true) return this.bounded(route, key, args, answer, script);
    // loading the redis package (about a second on a loaded machine) is not Redis's answer time
    const loaded = route || this.appClient ? undefined : this.routeLoaded();
    const sendWhenReady = () => this.bounded(this.ready(), key, args, answer, script);
    return loaded ? loaded.then(sendWhenReady) : sendWhenReady();
  }

  /** Sends the command on `route` (once ready), settling with `answer` or failing at the deadline. */
  private bounded<T, R>(
    route: Route | Promise<Route>,
    key: string | undefined,
    args: string[],
    answer: Answer<T, R>,
    script: string | undefined,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const call: PendingCall = {
        deadline: Date.now() + this.commandTimeoutMs,
        fail: () => reject(new Error(this.lateMessage())),
      };
      watchDeadline(call);
      const onReply = (reply: T) => {
        if (!settled(call)) return;
        try {
          resolve(answer.reply(reply));
        } catch (error) {
          reject(error);
        }
      };
      const onError = (error: unknown) => {
        // a call its deadline failed already is not sent again: it was reported as failed, and must stay unwritten
        const noScript = String((error as Error | null)?.message).startsWith('NOSCRIPT');
        if (script !== undefined && noScript && stillPending(call)) {
          const withScript = args.slice();
          withScript[0] = 'EVAL';
          withScript[1] = script;
          script = undefined;
          sendOn<T>(route, key, withScript).then(onReply, onError);
          return;
        }
        if (!settled(call)) return;
        if (!answer.failure) {
          reject(error);
          return;
        }
        try {
          resolve(answer.failure(error));
        } catch (failure) {
          reject(failure);
        }
      };
      sendOn<T>(route, key, args).then(onReply, onError);
    });
  }

  private lateMessage(): string {
    return `Redis at ${this.displayUrl} did not answer within ${this.commandTimeoutMs} ms`;
  }

  /** The nodes to SCAN (each master of a cluster), once the client is ready. */
  private nodesWhenReady(): Promise<RedisClient[]> {
    const nodes = this.ready().then((route) => route.nodes());
    return withDeadline(nodes, this.commandTimeoutMs, () => this.lateMessage());
  }

  /** Runs a Lua script about `key` by its hash, sending the script itself the first time Redis does not know it. */
  script<T, R = T>(script: string, key: string, args: string[], answer = asIs as Answer<T, R>): Promise<R> {
    return this.command(key, ['EVALSHA', sha1Of(script), '1', key, ...args], answer, script);
  }

  /** Every Redis key matching `pattern`, a SCAN page at a time on each node (each master of a cluster). */
  async *scan(pattern: string): AsyncGenerator<string[], void> {
    await this.routeLoaded();
    const nodes = await this.nodesWhenReady();
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
