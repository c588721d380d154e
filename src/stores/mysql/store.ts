import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from '../../store/contract';
import { unreadableSession } from '../../store/contract';
import { SessionConfigError } from '../../errors';
import { KeyedLock } from '../../store/keyed-lock';
import { asSessionRecord } from '../../store/record';
import { isUserIndexKey } from '../../store/user-index-key';
import { createDataRecord, isUnsafeKey } from '../../session/change-tracker';
import type { MysqlOptions, Run } from './connection';
import { MysqlConnection } from './connection';
import type { MysqlTable } from './statements';
import {
  applyStatement,
  boundLockWaitSql,
  clearSql,
  columnsOfTableSql,
  createTableSql,
  deleteValueSql,
  dropTableSql,
  expirySql,
  listPageSql,
  lockedValueSql,
  lockValueSql,
  matchedRows,
  readSql,
  readValueSql,
  removeSql,
  restoreLockWaitSql,
  sweepSql,
  tableColumns,
  tableOf,
  writeValueSql,
} from './statements';

export interface MysqlStoreOptions extends Omit<MysqlOptions, 'sweepInterval'> {
  /** How often expired rows are deleted, in ms. */
  sweepIntervalMs?: number;
  /** How long the user index waits for another process's update of the same user, in ms. */
  lockTimeoutMs?: number;
}

const listPageSize = 200;
const sweepBatch = 500;
const sweepBudgetMs = 1000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The session record of a row's JSON texts; the unreadable marker for anything else. */
function recordOf(row: Record<string, unknown>): ReadResult {
  try {
    const stored: unknown = JSON.parse(String(row.data));
    const meta: unknown = JSON.parse(String(row.meta));
    const flash: unknown = row.flash === null ? {} : JSON.parse(String(row.flash));
    if (!isObject(stored) || !isObject(meta) || !isObject(flash)) return unreadableSession;
    const data = createDataRecord();
    const json = new Map<string, string>();
    for (const [name, text] of Object.entries(stored)) {
      if (typeof text !== 'string') return unreadableSession;
      if (isUnsafeKey(name)) continue;
      data[name] = JSON.parse(text);
      json.set(name, text);
    }
    const flashKeys = Object.keys(flash);
    const record = asSessionRecord({
      data,
      meta: { ...meta, ...(flashKeys.length > 0 ? { flash: flashKeys } : {}) },
    });
    return record ? { ...record, json } : unreadableSession;
  } catch {
    return unreadableSession;
  }
}

/**
 * Sessions in MySQL 8 or MariaDB 10.11+, a row per session: a read is one SELECT, a save one statement that
 * edits only the changed keys inside the stored JSON (JSON_SET / JSON_REMOVE), merges the flash keys, sets the
 * expiry and refuses a session removed meanwhile; so saves from any number of processes merge with no lock and
 * no transaction. The user index is updated in a transaction holding the row's lock (SELECT ... FOR UPDATE),
 * whose wait is bounded. Expired rows are deleted in batches on an interval.
 */
export class MysqlSessionStore implements SessionStore {
  readonly name: string;
  private readonly table: MysqlTable;
  private readonly createTable: boolean;
  private readonly connection: MysqlConnection;
  private readonly lockTimeoutMs: number;
  private readonly processLock = new KeyedLock();
  private readonly transactions: TransactionLimit;
  private readonly sweepTimer: NodeJS.Timeout;
  private sweeping: Promise<number> | undefined;
  private tableReady: Promise<void> | undefined;
  private errorListener: ((error: unknown) => void) | undefined;

  constructor(options: MysqlStoreOptions = {}) {
    this.table = tableOf(options.table);
    if (options.createTable !== undefined && typeof options.createTable !== 'boolean') {
      throw new SessionConfigError(
        `Option mysql.createTable is ${JSON.stringify(options.createTable)}; write true or false.`,
      );
    }
    this.createTable = options.createTable !== false;
    this.connection = new MysqlConnection(options);
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5000;
    // an update of the user index reads sessions while its transaction holds a connection: at most half the
    // pool in transactions leaves connections for those reads, however many users sign in at once
    this.transactions = new TransactionLimit(Math.max(1, Math.floor(this.connection.connectionLimit / 2)));
    this.name = `mysql (${this.connection.displayUrl}, table ${this.table.display})`;
    this.sweepTimer = setInterval(
      () => void this.sweep().catch(() => undefined),
      options.sweepIntervalMs ?? 600_000,
    );
    this.sweepTimer.unref();
  }

  /** Reports the first error of an outage, a failed sweep, a table with the wrong columns. */
  onError(listener: (error: unknown) => void): void {
    this.errorListener = listener;
    this.connection.on('error', listener);
  }

  /** Creates the table on first use (unless createTable is false) and checks its columns, once. */
  private ready(): Promise<void> {
    this.tableReady ??= this.prepareTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }

  private async prepareTable(): Promise<void> {
    if (this.createTable) await this.connection.run(createTableSql(this.table));
    const rows = await this.connection.run(columnsOfTableSql, [this.table.schema ?? null, this.table.name]);
    const present = new Set(rows.map((row) => String(row.name ?? row.NAME).toLowerCase()));
    const missing = tableColumns.filter((column) => !present.has(column));
    if (missing.length === 0) return;
    const error = new Error(
      present.size === 0
        ? `the session table ${this.table.display} does not exist; create it with the SQL in the README (or leave mysql.createTable on)`
        : `the session table ${this.table.display} has no column ${missing.join(', ')}: it is not a table of this driver (its SQL is in the README)`,
    );
    this.errorListener?.(error);
    throw error;
  }

  private async run(sql: string, values: unknown[]) {
    await this.ready();
    return this.connection.run(sql, values);
  }

  async read(key: string): Promise<ReadResult> {
    const [row] = await this.run(readSql(this.table), [key, Date.now()]);
    return row ? recordOf(row) : undefined;
  }

  async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    const { sql, values } = applyStatement(this.table, key, change, expiresAt, Date.now());
    const answer = await this.run(sql, values);
    if (change.create || (answer.affectedRows ?? 0) > 0) return 'saved';
    const matched = matchedRows(answer);
    if (matched !== undefined) return matched > 0 ? 'saved' : 'gone';
    // no info and no changed row: the row may be there unchanged (a pool without FOUND_ROWS), or not there
    return (await this.expiryOf(key)) === undefined ? 'gone' : 'saved';
  }

  async remove(key: string): Promise<boolean> {
    const answer = await this.run(removeSql(this.table), [key, Date.now()]);
    return (answer.affectedRows ?? 0) > 0;
  }

  async expiryOf(key: string): Promise<number | undefined> {
    const [row] = await this.run(expirySql(this.table), [key, Date.now()]);
    return row ? Number(row.expires_at) : undefined;
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    let after = '';
    for (;;) {
      const rows = await this.run(listPageSql(this.table, listPageSize), [after, Date.now()]);
      for (const row of rows) {
        const key = String(row.store_key);
        if (isUserIndexKey(key)) continue;
        const record = recordOf(row);
        if (record && record !== unreadableSession) yield [key, record];
      }
      if (rows.length < listPageSize) return;
      after = String(rows.at(-1)!.store_key);
    }
  }

  async readValue(key: string): Promise<unknown> {
    const [row] = await this.run(readValueSql(this.table), [key, Date.now()]);
    return row ? parsedOrUndefined(row.data) : undefined;
  }

  /** Reads, changes and writes a value in one transaction holding its row's lock, so processes take turns. */
  async updateValue(
    key: string,
    update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>,
  ): Promise<void> {
    await this.ready();
    await this.processLock.run(key, () => this.transactions.run(() => this.transaction(key, update)));
  }

  private transaction(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>) {
    const lockWaitSeconds = Math.ceil(this.lockTimeoutMs / 1000);
    return this.connection.withConnection(async (run) => {
      await run(boundLockWaitSql(lockWaitSeconds));
      try {
        await run('START TRANSACTION');
        try {
          await this.updateLocked(run, key, update);
          await run('COMMIT');
        } catch (error) {
          await run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      } finally {
        await run(restoreLockWaitSql).catch(() => undefined);
      }
    }, this.lockTimeoutMs + this.connection.queryTimeoutMs);
  }

  private async updateLocked(
    run: Run,
    key: string,
    update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>,
  ): Promise<void> {
    await run(lockValueSql(this.table), [key]);
    const [row] = await run(lockedValueSql(this.table), [key]);
    const expiresAt = row?.expires_at === null ? undefined : Number(row?.expires_at);
    const live =
      row !== undefined && Number(row.is_value) === 1 && (expiresAt === undefined || expiresAt > Date.now());
    const next = await update(live ? parsedOrUndefined(row.data) : undefined);
    const text = next === undefined ? undefined : JSON.stringify(next.value);
    if (next === undefined || text === undefined) await run(deleteValueSql(this.table), [key]);
    else
      await run(writeValueSql(this.table), [
        text,
        next.expiresAt === undefined ? null : Math.round(next.expiresAt),
        key,
      ]);
  }

  /** Deletes expired rows, a batch at a time, for at most about a second; resolves to how many. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    const started = Date.now();
    let deleted = 0;
    try {
      for (;;) {
        const answer = await this.run(sweepSql(this.table, sweepBatch), [Date.now()]);
        deleted += answer.affectedRows ?? 0;
        if ((answer.affectedRows ?? 0) < sweepBatch || Date.now() - started > sweepBudgetMs) return deleted;
      }
    } catch (error) {
      this.errorListener?.(error);
      throw error;
    }
  }

  /** Deletes every row of the table (sessions and user index). */
  async clear(): Promise<void> {
    await this.run(clearSql(this.table), []);
  }

  /** Drops the table (for tests and tools; the request path never calls it). */
  async dropTable(): Promise<void> {
    await this.connection.run(dropTableSql(this.table));
    this.tableReady = undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.connection.close();
  }
}

function parsedOrUndefined(text: unknown): unknown {
  try {
    return JSON.parse(String(text)) as unknown;
  } catch {
    return undefined;
  }
}

/** Runs at most `limit` tasks at once, the others waiting their turn in order. */
class TransactionLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
