import { EventEmitter } from 'node:events';
import type { Duration, MysqlPoolLike, SessionStoreOptions } from '../../config/options';
import { durationOption } from '../../config/options';
import { withDeadline } from '../../store/deadline';
import { SessionConfigError } from '../../errors';

export type MysqlOptions = NonNullable<SessionStoreOptions['mysql']>;

/** What a statement answers: rows for a SELECT, a header (affected rows, info) for the others. */
export type MysqlAnswer = Array<Record<string, unknown>> & Partial<MysqlHeader>;

export interface MysqlHeader {
  affectedRows: number;
  /** The server's message: "Rows matched: 1  Changed: 0  Warnings: 0" for an UPDATE. */
  info: string;
}

/** The parts of a mysql2 connection (callback API) the driver uses. */
interface MysqlConnectionHandle {
  execute(
    options: { sql: string },
    values: unknown[],
    callback: (error: Error | null, answer: unknown) => void,
  ): unknown;
  query(options: { sql: string }, callback: (error: Error | null, answer: unknown) => void): unknown;
  release(): void;
  destroy(): void;
}

/** The parts of a mysql2 pool (callback API) the driver uses. */
interface MysqlCorePool {
  config?: { connectionLimit?: unknown };
  getConnection(callback: (error: Error | null, connection: MysqlConnectionHandle) => void): void;
  end(callback: (error?: Error | null) => void): void;
}

interface Mysql2Module {
  createPool(options: object): MysqlCorePool;
}

/**
 * One statement on a connection: with `values`, a prepared statement (the values never enter the SQL text);
 * without, the text protocol (for the statements MySQL does not prepare, such as START TRANSACTION).
 */
export type Run = (sql: string, values?: unknown[]) => Promise<MysqlAnswer>;

function requireInstalled(): void {
  try {
    require.resolve('mysql2');
  } catch {
    throw new SessionConfigError("driver 'mysql' needs the mysql2 package: npm install mysql2");
  }
}

/**
 * The callback pool of what the app gave: a pool of 'mysql2' (`createPool()`), or of 'mysql2/promise' (whose
 * `.pool` is the callback pool). Both share connections, so the app's own pool is used either way.
 */
function corePoolOf(given: MysqlPoolLike): MysqlCorePool {
  const candidate = given as { pool?: unknown; getConnection?: unknown };
  const inner = candidate.pool as Partial<MysqlCorePool> | undefined;
  const core = typeof inner?.getConnection === 'function' ? inner : candidate;
  if (typeof core.getConnection !== 'function' || typeof (core as MysqlCorePool).end !== 'function') {
    throw new SessionConfigError(
      "Option mysql.pool must be a mysql2 pool: createPool() of 'mysql2' or of 'mysql2/promise'.",
    );
  }
  return core as MysqlCorePool;
}

const ownConnectionLimit = 10;

/** mysql2 reports a dropped or refused connection with `fatal`; such a connection is not used again. */
const isFatal = (error: unknown) => (error as { fatal?: unknown } | null)?.fatal === true;

/**
 * The driver's connections to MySQL or MariaDB: a pool it makes from `mysql.url` (mysql2, loaded on first use,
 * so apps without MySQL need not install it) and closes in close(), or the app's pool (never closed here).
 * Each piece of work holds one connection for at most its deadline; a connection whose work outlived it is
 * destroyed, not given back, so a hung server cannot leave the pool full of stuck connections.
 */
export class MysqlConnection extends EventEmitter {
  readonly displayUrl: string;
  readonly queryTimeoutMs: number;
  private readonly url: string | undefined;
  private readonly connectTimeoutMs: number;
  private readonly appPool: MysqlCorePool | undefined;
  /** How many connections the pool opens at most (mysql2's default: 10). */
  readonly connectionLimit: number;
  private pool: Promise<MysqlCorePool> | undefined;
  private outageReported = false;

  constructor(options: MysqlOptions) {
    super();
    if (options.pool !== undefined && options.url !== undefined) {
      throw new SessionConfigError('Give mysql.url or mysql.pool, not both.');
    }
    this.appPool = options.pool === undefined ? undefined : corePoolOf(options.pool);
    if (!this.appPool) requireInstalled();
    this.url = options.url ?? 'mysql://root@127.0.0.1:3306/test';
    this.displayUrl = this.appPool ? 'the pool in mysql.pool' : this.url.replace(/\/\/[^@/]*@/, '//***@');
    this.connectTimeoutMs = durationOption('mysql.connectTimeout', options.connectTimeout as Duration, '1s');
    this.queryTimeoutMs = durationOption('mysql.queryTimeout', options.queryTimeout as Duration, '2s');
    if (this.appPool) this.pool = Promise.resolve(this.appPool);
    const limit = Number(this.appPool?.config?.connectionLimit ?? ownConnectionLimit);
    this.connectionLimit = Number.isInteger(limit) && limit > 0 ? limit : ownConnectionLimit;
  }

  private async createPool(): Promise<MysqlCorePool> {
    const { createPool } = (await import('mysql2')) as unknown as Mysql2Module;
    return createPool({
      uri: this.url,
      connectTimeout: this.connectTimeoutMs,
      connectionLimit: ownConnectionLimit,
      enableKeepAlive: true,
    });
  }

  private acquire(): Promise<MysqlConnectionHandle> {
    this.pool ??= this.createPool();
    return this.pool.then(
      (pool) =>
        new Promise((resolve, reject) =>
          pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))),
        ),
    );
  }

  /**
   * Runs `work` with one connection of the pool, failing when it has not finished within `timeoutMs`: a
   * connection that errs fatally or outlives the deadline is destroyed; otherwise it goes back to the pool.
   */
  async withConnection<T>(work: (run: Run) => Promise<T>, timeoutMs = this.queryTimeoutMs): Promise<T> {
    let expired = false;
    let held: MysqlConnectionHandle | undefined;
    const attempt = this.acquire().then(async (connection) => {
      if (expired) {
        connection.release();
        throw new Error('the deadline passed before a connection was free');
      }
      held = connection;
      let broken = false;
      const run: Run = (sql, values) =>
        new Promise((resolve, reject) => {
          const settle = (error: Error | null, answer: unknown) => {
            if (error && isFatal(error)) broken = true;
            if (error) reject(error);
            else resolve(answer as MysqlAnswer);
          };
          if (values) connection.execute({ sql }, values, settle);
          else connection.query({ sql }, settle);
        });
      try {
        return await work(run);
      } finally {
        held = undefined;
        if (broken || expired) connection.destroy();
        else connection.release();
      }
    });
    try {
      const result = await withDeadline(
        attempt,
        timeoutMs,
        () => `MySQL at ${this.displayUrl} did not answer within ${timeoutMs} ms`,
      );
      this.outageReported = false;
      return result;
    } catch (error) {
      expired = true;
      held?.destroy();
      attempt.catch(() => undefined);
      this.reportOutage(error);
      throw error;
    }
  }

  /** One statement, on a connection of its own. */
  run(sql: string, values?: unknown[]): Promise<MysqlAnswer> {
    return this.withConnection((run) => run(sql, values));
  }

  /** Reports the first failure of an outage only (the pool reconnects on its own). */
  private reportOutage(error: unknown): void {
    if (this.outageReported) return;
    this.outageReported = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (!pool || this.appPool) return;
    const owned = await pool.catch(() => undefined);
    await new Promise<void>((resolve) => owned?.end(() => resolve()) ?? resolve());
  }
}
