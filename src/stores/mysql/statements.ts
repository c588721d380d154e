import type { SessionChange, SessionOp } from '../../store/contract';
import { SessionConfigError } from '../../errors';
import { setsOntoNothing } from '../../store/merge';

/**
 * The SQL of the MySQL/MariaDB driver, written in what MySQL 8 and MariaDB 10.11 both accept. A row per
 * session: `data` is a JSON object holding each data key's JSON text as a JSON string ({"cart":"[1,2]"}: the
 * exact text the change tracker compares, whatever the server does to JSON), `flash` an object whose keys are
 * the flash keys, `meta` the record's meta, `expires_at` the expiry in ms since the epoch. A row whose `meta`
 * is NULL holds a value of the user index (its JSON in `data`); a NULL `expires_at` never expires.
 */

const identifier = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;

export interface MysqlTable {
  /** The name as written in SQL: `db`.`sessions` or `sessions`. */
  readonly sql: string;
  /** The name for messages: db.sessions or sessions. */
  readonly display: string;
  /** The schema (database) named in the option; undefined: the connection's database. */
  readonly schema: string | undefined;
  readonly name: string;
}

/** The table of option `mysql.table` ('sessions', or 'database.sessions'); a name that is not a plain identifier is refused. */
export function tableOf(option: unknown = 'sessions'): MysqlTable {
  const parts = typeof option === 'string' ? option.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw new SessionConfigError(
      `Option mysql.table is ${JSON.stringify(option)}; write a table name such as 'sessions' or 'mydb.sessions' ` +
        '(letters, digits, _ and $, starting with a letter or _, at most 64 characters each).',
    );
  }
  const name = parts.at(-1)!;
  const schema = parts.length === 2 ? parts[0] : undefined;
  return { sql: parts.map((part) => `\`${part}\``).join('.'), display: parts.join('.'), schema, name };
}

/** The columns the driver reads and writes, as CREATE TABLE makes them. */
export const tableColumns = ['store_key', 'data', 'flash', 'meta', 'expires_at'] as const;

export function createTableSql(table: MysqlTable): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${table.sql} (`,
    '  store_key VARCHAR(255) NOT NULL,',
    '  data JSON NOT NULL,',
    '  flash JSON NULL,',
    '  meta JSON NULL,',
    '  expires_at BIGINT NULL,',
    '  PRIMARY KEY (store_key),',
    '  INDEX expires_at_index (expires_at)',
    ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
  ].join('\n');
}

/** Selects JSON columns as text in both servers (MySQL's JSON type would otherwise be parsed by the client). */
const asText = (column: string) => `CAST(${column} AS CHAR CHARACTER SET utf8mb4) AS ${column}`;

export const columnsOfTableSql =
  'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?';

/** A live row: a session (or a value) before its expiry, or a value that never expires. */
const liveOrValue = '(expires_at > ? OR (expires_at IS NULL AND meta IS NULL))';

/** Whatever is live at a key: a session, or a value (which `read` reports as not a session record). */
export const readSql = (table: MysqlTable) =>
  `SELECT ${asText('data')}, ${asText('flash')}, ${asText('meta')} FROM ${table.sql} ` +
  `WHERE store_key = ? AND ${liveOrValue}`;

export const removeSql = (table: MysqlTable) =>
  `DELETE FROM ${table.sql} WHERE store_key = ? AND ${liveOrValue}`;

export const expirySql = (table: MysqlTable) =>
  `SELECT expires_at FROM ${table.sql} WHERE store_key = ? AND expires_at > ? AND meta IS NOT NULL`;

/** A page of live sessions after a store key, in key order (each page its own statement: no long scan). */
export const listPageSql = (table: MysqlTable, size: number) =>
  `SELECT store_key, ${asText('data')}, ${asText('flash')}, ${asText('meta')} FROM ${table.sql} ` +
  `WHERE store_key > ? AND expires_at > ? AND meta IS NOT NULL ORDER BY store_key LIMIT ${size}`;

export const readValueSql = (table: MysqlTable) =>
  `SELECT ${asText('data')} FROM ${table.sql} ` +
  'WHERE store_key = ? AND meta IS NULL AND (expires_at IS NULL OR expires_at > ?)';

/** Makes sure a value's row exists (an expired placeholder if not) and holds its lock till the transaction ends. */
export const lockValueSql = (table: MysqlTable) =>
  `INSERT INTO ${table.sql} (store_key, data, flash, meta, expires_at) VALUES (?, 'null', NULL, NULL, 0) ` +
  'ON DUPLICATE KEY UPDATE store_key = store_key';

export const lockedValueSql = (table: MysqlTable) =>
  `SELECT ${asText('data')}, expires_at, meta IS NULL AS is_value FROM ${table.sql} WHERE store_key = ? FOR UPDATE`;

export const writeValueSql = (table: MysqlTable) =>
  `UPDATE ${table.sql} SET data = ?, flash = NULL, meta = NULL, expires_at = ? WHERE store_key = ?`;

export const deleteValueSql = (table: MysqlTable) => `DELETE FROM ${table.sql} WHERE store_key = ?`;

/** Sets the lock wait of this connection's transactions, keeping the connection's own to restore. */
export const boundLockWaitSql = (seconds: number) =>
  `SET @rcs_lock_wait = @@SESSION.innodb_lock_wait_timeout, SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(seconds))}`;
export const restoreLockWaitSql = 'SET SESSION innodb_lock_wait_timeout = @rcs_lock_wait';

/** One batch of expired rows (sessions and values); a batch at a time keeps each statement short. */
export const sweepSql = (table: MysqlTable, batch: number) =>
  `DELETE FROM ${table.sql} WHERE expires_at <= ? LIMIT ${batch}`;

export const clearSql = (table: MysqlTable) => `DELETE FROM ${table.sql}`;

/** The JSON path of one top-level key, whatever its characters: `$."a\"b"` (a quoted key is a JSON string). */
export const pathOf = (key: string) => `$.${JSON.stringify(key)}`;

/** An SQL expression and the values of its placeholders, in order. */
interface Fragment {
  sql: string;
  values: unknown[];
}

/**
 * `base` with `removed` keys removed, then `set` keys set to their values (a key in both ends up set, as in
 * merge.ts), then the keys of `computed` set to what their SQL makes of the stored row.
 */
function jsonEdited(
  base: string,
  removed: readonly string[],
  set: ReadonlyArray<[string, unknown]>,
  computed: readonly Fragment[] = [],
): Fragment {
  let sql = base;
  const values: unknown[] = [];
  if (removed.length > 0) {
    sql = `JSON_REMOVE(${sql}${', ?'.repeat(removed.length)})`;
    values.push(...removed.map(pathOf));
  }
  if (set.length > 0 || computed.length > 0) {
    sql = `JSON_SET(${sql}${', ?, ?'.repeat(set.length)}`;
    for (const [key, value] of set) values.push(pathOf(key), value);
    for (const fragment of computed) {
      sql += `, ${fragment.sql}`;
      values.push(...fragment.values);
    }
    sql += ')';
  }
  return { sql, values };
}

/** A JSON number as JSON.stringify writes it (merge.ts checks the same way). */
const jsonNumber = `'^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$'`;

/**
 * The path and the new JSON text of an op's key, from the stored `data`: an increment adds as a DOUBLE (as
 * JavaScript adds) and writes an integer in full, any other number as the server's shortest exact text; a
 * push appends the items' JSON to the stored text.
 */
function opAfter(op: SessionOp): Fragment {
  const stored = 'JSON_UNQUOTE(JSON_EXTRACT(data, ?))';
  const path = pathOf(op.key);
  if (op.op === 'push') {
    const items = op.items.join(',');
    return {
      sql:
        `?, CASE WHEN LEFT(${stored}, 1) = '[' AND ${stored} <> '[]' ` +
        `THEN CONCAT(LEFT(${stored}, CHAR_LENGTH(${stored}) - 1), ',', ?, ']') ELSE CONCAT('[', ?, ']') END`,
      values: [path, path, path, path, path, items, items],
    };
  }
  const total = `(CASE WHEN ${stored} REGEXP ${jsonNumber} THEN CAST(${stored} AS DOUBLE) ELSE 0 END + CAST(? AS DOUBLE))`;
  const totalValues = [path, path, op.by];
  return {
    sql:
      `?, IF(${total} = FLOOR(${total}) AND ABS(${total}) < 9007199254740992, ` +
      `CAST(CAST(${total} AS SIGNED) AS CHAR), CAST(${total} AS CHAR))`,
    values: [path, ...totalValues, ...totalValues, ...totalValues, ...totalValues, ...totalValues],
  };
}

/** The stored data after the change, from `base` (the stored data, or an empty object). */
function dataAfter(change: SessionChange, base: string): Fragment {
  const set = Object.entries(change.set);
  return jsonEdited(base, change.replace ? [] : change.removed, set, change.ops?.map(opAfter));
}

/** The data of a session that holds nothing yet: the keys set, and what the ops make of missing keys. */
function freshDataOf(change: SessionChange): Fragment {
  return jsonEdited(emptyObject, [], Object.entries(setsOntoNothing(change)));
}

/** The stored flash keys after the change: aged ones leave, flashed ones join (each key once: it is an object). */
function flashAfter(change: SessionChange, base: string): Fragment {
  if (!change.flash) return { sql: base, values: [] };
  const { aged, flashed } = change.flash;
  return jsonEdited(
    base,
    aged,
    flashed.map((key): [string, unknown] => [key, 1]),
  );
}

const emptyObject = 'JSON_OBJECT()';
const storedFlash = `COALESCE(flash, ${emptyObject})`;
const live = 'expires_at > ? AND meta IS NOT NULL';

/**
 * The one statement that applies a change. Without `create`, an UPDATE of the live row (none matched: 'gone').
 * With it, an INSERT whose duplicate-key branch merges into a live row and overwrites an expired one. Each
 * assignment reads only columns assigned after it (or none), so it means the same whether the server
 * evaluates assignments left to right (MySQL) or all at once (MariaDB's SIMULTANEOUS_ASSIGNMENT).
 */
export function applyStatement(
  table: MysqlTable,
  key: string,
  change: SessionChange,
  expiresAt: number,
  now: number,
): Fragment {
  const meta = JSON.stringify(change.meta);
  const expiry = Math.round(expiresAt);
  const freshData = freshDataOf(change);
  const freshFlash = flashAfter(change, emptyObject);
  if (!change.create) {
    const data = change.replace ? freshData : dataAfter(change, 'data');
    const flash = change.replace ? freshFlash : flashAfter(change, storedFlash);
    return {
      sql:
        `UPDATE ${table.sql} SET data = ${data.sql}, flash = ${flash.sql}, meta = ?, expires_at = ? ` +
        `WHERE store_key = ? AND ${live}`,
      values: [...data.values, ...flash.values, meta, expiry, key, now],
    };
  }
  const insert = `INSERT INTO ${table.sql} (store_key, data, flash, meta, expires_at) VALUES (?, ${freshData.sql}, ${freshFlash.sql}, ?, ?)`;
  const insertValues = [key, ...freshData.values, ...freshFlash.values, meta, expiry];
  if (change.replace) {
    return {
      sql: `${insert} ON DUPLICATE KEY UPDATE data = ${freshData.sql}, flash = ${freshFlash.sql}, meta = ?, expires_at = ?`,
      values: [...insertValues, ...freshData.values, ...freshFlash.values, meta, expiry],
    };
  }
  const mergedData = dataAfter(change, 'data');
  const mergedFlash = flashAfter(change, storedFlash);
  return {
    sql:
      `${insert} ON DUPLICATE KEY UPDATE ` +
      `data = IF(${live}, ${mergedData.sql}, ${freshData.sql}), ` +
      `flash = IF(${live}, ${mergedFlash.sql}, ${freshFlash.sql}), ` +
      'meta = ?, expires_at = ?',
    values: [
      ...insertValues,
      now,
      ...mergedData.values,
      ...freshData.values,
      now,
      ...mergedFlash.values,
      ...freshFlash.values,
      meta,
      expiry,
    ],
  };
}

/**
 * The rows an UPDATE matched, from the server's info ("Rows matched: 1  Changed: 0"): affectedRows counts only
 * the rows it changed unless the connection has the FOUND_ROWS flag, which an app's pool may not have.
 * Undefined when the server sent no such info.
 */
export function matchedRows(header: { info?: string }): number | undefined {
  const matched = /Rows matched:\s*(\d+)/i.exec(header.info ?? '');
  return matched ? Number(matched[1]) : undefined;
}

export const dropTableSql = (table: MysqlTable) => `DROP TABLE IF EXISTS ${table.sql}`;
