import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duration, PostgresPoolLike, SessionStoreOptions } from '../../config/options';
import { durationOption } from '../../config/options';
import { SessionConfigError } from '../../errors';
import { withDeadline } from '../../store/deadline';
import { requirePeer } from '../sql/optional-peer';

export type PostgresOptions = NonNullable<SessionStoreOptions['postgres']>;

/** A query as pg takes it: a named one is parsed and planned once per connection. */
interface QueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
  rowMode: 'array';
  query_timeout: number;
}

interface QueryResult {
  rows: unknown[][];
  rowCount: number | null;
}

/** The parts of a pg client (checked out of a pool) the driver uses. */
export interface PostgresClient {
  query(config: QueryConfig): Promise<QueryResult>;
  release(destroy?: boolean): void;
}

interface PostgresPool {
  query(config: QueryConfig): Promise<QueryResult>;
  connect(): Promise<PostgresClient>;
  on?(event: 'error', listener: (error: unknown) => void): unknown;
  end?(): Promise<void>;
}

interface PgModule {
  Pool: new (config: object) => PostgresPool;
}

/** What two processes creating the same table at once meet; the driver goes on with the table the other made. */
export const createRaceCodes: ReadonlySet<string> = new Set(['23505', '42P07', '42710']);

const statementNames = new Map<string, string>();

/** A prepared statement's name, the same for the same text in every store (pg refuses one name for two texts). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `rcs_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

function isPool(candidate: unknown): candidate is PostgresPoolLike {
  const pool = candidate as Partial<PostgresPoolLike> | null;
  return typeof pool?.query === 'function' && typeof pool.connect === 'function';
}

/**
 * The driver's connection to PostgreSQL: a pool it makes from `url` (the `pg` package is loaded on first use)
 * and closes, or the app's `pool`, never closed here. Every query is bounded by `queryTimeout`: a query that
 * does not answer drops its connection (pg destroys a client whose query failed), so a hung database cannot
 * hold the pool's connections forever, and later queries reconnect once it is back.
 */
export class PostgresConnection extends EventEmitter {
  readonly displayUrl: string;
  private readonly url: string | undefined;
  private readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  private readonly appPool: PostgresPool | undefined;
  private pool: Promise<PostgresPool> | undefined;
  private outageReported = false;

  constructor(options: PostgresOptions) {
    super();
    if (options.url !== undefined && options.pool !== undefined) {
      throw new SessionConfigError('Option postgres takes url or pool, not both.');
    }
    if (options.pool !== undefined && !isPool(options.pool)) {
      throw new SessionConfigError('Option postgres.pool must be a pg.Pool (with query and connect).');
    }
    if (options.url !== undefined && (typeof options.url !== 'string' || options.url === '')) {
      throw new SessionConfigError(
        `Option postgres.url is ${JSON.stringify(options.url)}; write a connection URL such as postgres://user@host/db.`,
      );
    }
    this.appPool = options.pool as PostgresPool | undefined;
    if (!this.appPool) requirePeer('postgres', 'pg');
    this.url = options.url;
    this.displayUrl = this.appPool
      ? 'the pool in postgres.pool'
      : (this.url ?? 'the PG* environment').replace(/\/\/[^@/]*@/, '//***@');
    this.connectTimeoutMs = durationOption(
      'postgres.connectTimeout',
      options.connectTimeout as Duration,
      '2s',
    );
    this.queryTimeoutMs = durationOption('postgres.queryTimeout', options.queryTimeout as Duration, '5s');
    if (this.appPool) this.pool = Promise.resolve(this.appPool);
  }

  private async createPool(): Promise<PostgresPool> {
    const pg = (await import('pg')) as unknown as PgModule & { default?: PgModule };
    const { Pool } = pg.Pool ? pg : pg.default!;
    const pool = new Pool({
      ...(this.url === undefined ? {} : { connectionString: this.url }),
      connectionTimeoutMillis: this.connectTimeoutMs,
      statement_timeout: this.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      allowExitOnIdle: true,
    });
    // an idle connection that breaks (a restart, pg_terminate_backend) is reported here, not thrown
    pool.on?.('error', (error) => this.report(error));
    return pool;
  }

  private getPool(): Promise<PostgresPool> {
    this.pool ??= this.createPool();
    return this.pool;
  }

  /** Reports the first error of an outage. */
  report(error: unknown): void {
    if (this.outageReported) return;
    this.outageReported = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private answered<T>(result: T): T {
    this.outageReported = false;
    return result;
  }

  /** A statement prepared once per connection under a name made from its text, answered as arrays of values. */
  private preparedQuery(text: string, values: unknown[]): QueryConfig {
    return { name: statementName(text), text, values, rowMode: 'array', query_timeout: this.queryTimeoutMs };
  }

  /** Runs one statement, prepared once per connection under a name made from its text; rows as arrays. */
  async query(text: string, values: unknown[] = []): Promise<QueryResult> {
    const pool = await this.getPool();
    try {
      return this.answered(await pool.query(this.preparedQuery(text, values)));
    } catch (error) {
      if (!createRaceCodes.has((error as { code?: unknown }).code as string)) this.report(error);
      throw error;
    }
  }

  /**
   * Runs `task` on one connection inside a transaction, committed when it resolves and rolled back when it
   * throws. The connection is dropped rather than reused after any failure, so no half-done transaction
   * goes back to the pool.
   */
  async transaction<T>(
    task: (run: (text: string, values?: unknown[]) => Promise<QueryResult>) => Promise<T>,
  ): Promise<T> {
    const pool = await this.getPool();
    const connecting = pool.connect();
    let client: PostgresClient;
    try {
      client = await withDeadline(
        connecting,
        this.connectTimeoutMs,
        () => `PostgreSQL at ${this.displayUrl} gave no connection within ${this.connectTimeoutMs} ms`,
      );
    } catch (error) {
      connecting.then(
        (late) => late.release(),
        () => undefined,
      );
      this.report(error);
      throw error;
    }
    const run = (text: string, values: unknown[] = []) => client.query(this.preparedQuery(text, values));
    try {
      const control = (text: string) =>
        client.query({ text, rowMode: 'array', query_timeout: this.queryTimeoutMs });
      // one simple-protocol round trip; a lock wait in the transaction fails instead of outliving the query timeout
      await control(`BEGIN; SET LOCAL lock_timeout = ${Math.round(this.queryTimeoutMs)}`);
      const result = await task(run);
      await control('COMMIT');
      client.release();
      return this.answered(result);
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool && !this.appPool) await (await pool).end?.();
  }
}
