import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionOp,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from '../../store/contract';
import { unreadableSession } from '../../store/contract';
import { KeyedLock } from '../../store/keyed-lock';
import { asSessionRecord } from '../../store/record';
import { setsOntoNothing } from '../../store/merge';
import { createDataRecord, isUnsafeKey } from '../../session/change-tracker';
import { durationOption } from '../../config/options';
import { SessionConfigError } from '../../errors';
import { sqlIdentifier } from '../sql/identifiers';
import { BatchSweeper } from '../sql/sweeper';
import type { PostgresOptions } from './connection';
import { createRaceCodes, PostgresConnection } from './connection';
import type { PostgresStatements } from './statements';
import { createTableSql, expectedColumns, qualifiedName, statementsFor } from './statements';

const listPageSize = 200;
/** PostgreSQL's identifier limit (63), less the `_expires_at` of the index name. */
const longestTableName = 51;

/** An op as the statement's jsonb_to_recordset reads it. */
function opRow(op: SessionOp): { op: string; key: string; amount?: number; items?: string } {
  return op.op === 'increment'
    ? { op: op.op, key: op.key, amount: op.by }
    : { op: op.op, key: op.key, items: op.items.join(',') };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The session record in a row's columns (data, meta, flash as JSON text); the unreadable marker for anything else. */
function recordOf(dataText: string, metaText: string, flashText: string): ReadResult {
  const data = createDataRecord();
  const json = new Map<string, string>();
  let meta: unknown;
  let flash: unknown;
  try {
    const stored: unknown = JSON.parse(dataText);
    if (!isObject(stored)) return unreadableSession;
    for (const name in stored) {
      const text = stored[name];
      if (typeof text !== 'string') return unreadableSession;
      if (isUnsafeKey(name)) continue;
      data[name] = JSON.parse(text);
      json.set(name, text);
    }
    meta = JSON.parse(metaText);
    flash = JSON.parse(flashText);
  } catch {
    return unreadableSession;
  }
  if (!isObject(meta) || !Array.isArray(flash)) return unreadableSession;
  const record = asSessionRecord({ data, meta: { ...meta, ...(flash.length > 0 ? { flash } : {}) } });
  return record ? { ...record, json } : unreadableSession;
}

/**
 * Sessions in PostgreSQL, one row per session: read with one SELECT, changed with one statement that sets and
 * removes only the changed keys inside the stored jsonb (`-` the removed keys, `||` the set ones), merges the
 * flash keys, sets the expiry and refuses ('gone') a session removed or expired meanwhile. No lock and no
 * transaction on the request path; the user index is updated in a transaction under an advisory lock.
 */
export class PostgresSessionStore implements SessionStore {
  readonly name: string;
  private readonly connection: PostgresConnection;
  private readonly table: string;
  private readonly schema: string | undefined;
  private readonly qualifiedTable: string;
  private readonly statements: PostgresStatements;
  private readonly createTable: boolean;
  private readonly sweeper: BatchSweeper;
  private readonly processLock = new KeyedLock();
  private tableReady: Promise<void> | undefined;
  private tableChecked = false;

  constructor(options: PostgresOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new SessionConfigError('Option postgres must be an object: { url } or { pool }.');
    }
    this.table = sqlIdentifier('postgres.table', options.table, 'sessions', longestTableName);
    this.schema =
      options.schema === undefined ? undefined : sqlIdentifier('postgres.schema', options.schema, '', 63);
    if (options.createTable !== undefined && typeof options.createTable !== 'boolean') {
      throw new SessionConfigError('Option postgres.createTable must be true or false.');
    }
    this.createTable = options.createTable ?? true;
    const sweepIntervalMs = durationOption('postgres.sweepInterval', options.sweepInterval, '10m');
    this.connection = new PostgresConnection(options);
    this.qualifiedTable = qualifiedName(this.schema, this.table);
    this.statements = statementsFor(this.qualifiedTable);
    this.name = `postgres (${this.connection.displayUrl}, table ${this.qualifiedTable})`;
    this.sweeper = new BatchSweeper({
      intervalMs: sweepIntervalMs,
      sweepBatch: async (batchSize) => {
        await this.ready();
        return (await this.connection.query(this.statements.sweep, [batchSize])).rowCount ?? 0;
      },
      onError: (error) => this.connection.report(error),
    });
    this.sweeper.start();
  }

  /** Reports the first error of an outage, and a table that is missing or has the wrong columns. */
  onError(listener: (error: unknown) => void): void {
    this.connection.on('error', listener);
  }

  /** The table, created if missing (unless createTable is false) and checked once for its columns. */
  private ready(): Promise<void> | undefined {
    if (this.tableChecked) return undefined;
    this.tableReady ??= this.prepareTable().then(
      () => {
        this.tableChecked = true;
      },
      (error: unknown) => {
        this.tableReady = undefined;
        this.connection.report(error);
        throw error;
      },
    );
    return this.tableReady;
  }

  private async prepareTable(): Promise<void> {
    const [createTable, createIndex] = createTableSql(this.schema, this.table);
    if (this.createTable) await this.createIfMissing(createTable!);
    await this.checkColumns();
    if (this.createTable) await this.createIfMissing(createIndex!);
  }

  private async createIfMissing(statement: string): Promise<void> {
    try {
      await this.connection.query(statement);
    } catch (error) {
      if (!createRaceCodes.has((error as { code?: unknown }).code as string)) throw error;
    }
  }

  private async checkColumns(): Promise<void> {
    const { rows } = await this.connection.query(this.statements.columns, [this.qualifiedTable]);
    if (rows.length === 0) {
      throw new Error(
        `The sessions table ${this.qualifiedTable} does not exist; create it with the SQL in the README ` +
          '(or leave postgres.createTable at true).',
      );
    }
    const found = new Map(rows.map(([column, type]) => [column as string, type as string]));
    const wrong = Object.entries(expectedColumns).filter(([column, type]) => found.get(column) !== type);
    if (wrong.length > 0) {
      throw new Error(
        `The table ${this.qualifiedTable} is not a sessions table of this library: it needs the columns ` +
          `${wrong.map(([column, type]) => `${column} ${type}`).join(', ')} (found ` +
          `${[...found].map(([column, type]) => `${column} ${type}`).join(', ')}). ` +
          'Choose another postgres.table, or create it with the SQL in the README.',
      );
    }
  }

  async read(key: string): Promise<ReadResult> {
    await this.ready();
    const { rows } = await this.connection.query(this.statements.read, [key]);
    const row = rows[0] as [string, string, string] | undefined;
    return row ? recordOf(...row) : undefined;
  }

  async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    await this.ready();
    const values: unknown[] = [
      key,
      JSON.stringify(change.set),
      change.removed,
      JSON.stringify(change.meta),
      Math.round(expiresAt),
      change.replace === true,
      change.flash ? [...new Set(change.flash.flashed)] : null,
      change.flash?.aged ?? [],
    ];
    let statements: Pick<PostgresStatements, 'create' | 'update'> = this.statements;
    if (change.ops) {
      statements = this.statements.withOps;
      values.push(JSON.stringify(change.ops.map(opRow)), JSON.stringify(setsOntoNothing(change)));
    }
    const statement = change.create ? statements.create : statements.update;
    const { rowCount } = await this.connection.query(statement, values);
    return rowCount === 1 ? 'saved' : 'gone';
  }

  async remove(key: string): Promise<boolean> {
    await this.ready();
    const { rows } = await this.connection.query(this.statements.remove, [key]);
    return rows[0]?.[0] === true;
  }

  async expiryOf(key: string): Promise<number | undefined> {
    await this.ready();
    const { rows } = await this.connection.query(this.statements.expiryOf, [key]);
    const expiry = rows[0]?.[0];
    return typeof expiry === 'number' && Number.isFinite(expiry) ? expiry : undefined;
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    await this.ready();
    let after = '';
    for (;;) {
      const { rows } = await this.connection.query(this.statements.listPage, [after, listPageSize]);
      for (const [key, data, meta, flash] of rows as Array<[string, string, string, string]>) {
        const record = recordOf(data, meta, flash);
        if (record !== unreadableSession && record !== undefined) yield [key, record];
        after = key;
      }
      if (rows.length < listPageSize) return;
    }
  }

  async readValue(key: string): Promise<unknown> {
    await this.ready();
    const { rows } = await this.connection.query(this.statements.readValue, [key]);
    return parseValue(rows[0]?.[0]);
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.processLock.run(key, async () => {
      await this.ready();
      await this.connection.transaction(async (run) => {
        await run(this.statements.lockValue, [`${this.qualifiedTable}:${key}`]);
        const { rows } = await run(this.statements.readValue, [key]);
        const next = await update(parseValue(rows[0]?.[0]));
        if (next === undefined) {
          await run(this.statements.removeValue, [key]);
          return;
        }
        const expiresAt = next.expiresAt === undefined ? null : Math.round(next.expiresAt);
        await run(this.statements.writeValue, [key, JSON.stringify(next.value), expiresAt]);
      });
    });
  }

  /** Deletes expired rows now, a batch at a time; resolves to how many. The interval does the same. */
  sweep(): Promise<number> {
    return this.sweeper.sweep();
  }

  /** Deletes every row of the table (sessions and user index). */
  async clear(): Promise<void> {
    await this.ready();
    await this.connection.query(this.statements.clear);
  }

  async close(): Promise<void> {
    this.sweeper.stop();
    await this.connection.close();
  }
}

function parseValue(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
