import { userIndexKeyPrefix } from '../../store/user-index-key';

/** The columns of the sessions table, with their types as PostgreSQL's format_type names them. */
export const expectedColumns: Record<string, string> = {
  key: 'text',
  data: 'jsonb',
  meta: 'jsonb',
  flash: 'text[]',
  expires_at: 'timestamp with time zone',
};

/** `"schema"."table"`, from names checked by sqlIdentifier (letters, digits, underscores). */
export function qualifiedName(schema: string | undefined, table: string): string {
  return schema === undefined ? `"${table}"` : `"${schema}"."${table}"`;
}

/**
 * The table, as `createTable: false` expects a migration to have made it: one row per session, `data` a JSON
 * object holding each data key's JSON text as a string, `meta` the record's meta (createdAt, lastSeenAt),
 * `flash` the keys flashed by the last request, `expires_at` when the row stops counting.
 */
export function createTableSql(schema: string | undefined, table: string): string[] {
  const name = qualifiedName(schema, table);
  return [
    `CREATE TABLE IF NOT EXISTS ${name} (
  key text PRIMARY KEY,
  data jsonb NOT NULL,
  meta jsonb NOT NULL,
  flash text[] NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${name} (expires_at)`,
  ];
}

/** The stored flash keys the change did not age ($8), then those it flashed ($7), each once, in order. */
const flashAfter = `ARRAY(
  SELECT name FROM unnest(array_cat(
    ARRAY(SELECT kept FROM unnest(s.flash) AS kept WHERE kept <> ALL($8::text[])), $7::text[]
  )) WITH ORDINALITY AS listed(name, position)
  GROUP BY name ORDER BY min(position))`;

/** A JSON number as JSON.stringify writes it (merge.ts checks the same way). */
const jsonNumber = `'^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$'`;

/**
 * The stored keys that the ops ($9: [{op, key, amount, items}]) change, each as its new JSON text: an
 * increment adds as float8 (as JavaScript adds) and writes an integer in full, any other number as its
 * shortest exact text; a push appends the items' JSON (`items`, joined by commas) to the stored text.
 */
const opsAfter = `COALESCE((SELECT jsonb_object_agg(o.key, CASE
  WHEN o.op = 'push' THEN CASE
    WHEN left(s.data->>o.key, 1) = '[' AND s.data->>o.key <> '[]'
      THEN left(s.data->>o.key, -1) || ',' || o.items || ']'
    ELSE '[' || o.items || ']' END
  ELSE (SELECT CASE WHEN total = trunc(total) AND abs(total) < 9007199254740992 THEN total::bigint::text
      ELSE total::text END
    FROM (SELECT CASE WHEN s.data->>o.key ~ ${jsonNumber} THEN (s.data->>o.key)::float8 ELSE 0 END
      + o.amount AS total) AS added)
  END)
  FROM jsonb_to_recordset($9::jsonb) AS o(op text, key text, amount float8, items text)), '{}'::jsonb)`;

/**
 * The apply statements: the keys set ($2) and, with ops, the keys they change over the stored ones; `fresh`
 * is the data of a session that holds nothing yet ($10 with ops: the keys set and what the ops make of
 * missing keys).
 */
function applyStatements(table: string, withOps: boolean) {
  const expiry = 'to_timestamp($5::float8 / 1000)';
  const fresh = withOps ? '$10::jsonb' : '$2::jsonb';
  const merged = `(s.data - $3::text[]) || $2::jsonb${withOps ? ` || ${opsAfter}` : ''}`;
  return {
    /*
     * apply, for a change that may create the session: $1 key, $2 keys set ({name: JSON text}), $3 keys
     * removed, $4 meta, $5 expiry (ms), $6 replace, $7 flashed keys (null: flash unchanged), $8 aged keys.
     * A stored row that has expired is overwritten as if it were not there.
     */
    create: `INSERT INTO ${table} AS s (key, data, meta, flash, expires_at)
VALUES ($1, ${fresh}, $4::jsonb, COALESCE($7::text[], '{}'), ${expiry})
ON CONFLICT (key) DO UPDATE SET
  data = CASE WHEN $6::boolean OR s.expires_at <= now() THEN excluded.data
    ELSE ${merged} END,
  meta = excluded.meta,
  flash = CASE WHEN $6::boolean OR s.expires_at <= now() THEN excluded.flash
    WHEN $7::text[] IS NULL THEN s.flash
    ELSE ${flashAfter} END,
  expires_at = excluded.expires_at`,
    /* apply, for a change of a stored session: the same parameters; no row changed means 'gone'. */
    update: `UPDATE ${table} AS s SET
  data = CASE WHEN $6::boolean THEN ${fresh} ELSE ${merged} END,
  meta = $4::jsonb,
  flash = CASE WHEN $6::boolean THEN COALESCE($7::text[], '{}')
    WHEN $7::text[] IS NULL THEN s.flash
    ELSE ${flashAfter} END,
  expires_at = ${expiry}
WHERE key = $1 AND expires_at > now()`,
  };
}

/** The statements of one table; every one is a single round trip. */
export function statementsFor(table: string) {
  return {
    ...applyStatements(table, false),
    /* the same, for a change with ops: $9 the ops, $10 the data of a session that holds nothing yet */
    withOps: applyStatements(table, true),
    read: `SELECT data::text, meta::text, array_to_json(flash)::text FROM ${table}
WHERE key = $1 AND expires_at > now()`,
    /* whether the deleted row was live */
    remove: `DELETE FROM ${table} WHERE key = $1 RETURNING expires_at > now()`,
    expiryOf: `SELECT (extract(epoch FROM expires_at) * 1000)::float8 FROM ${table}
WHERE key = $1 AND expires_at > now()`,
    /* a page of live sessions after the key $1, in key order; the user index rows left out */
    listPage: `SELECT key, data::text, meta::text, array_to_json(flash)::text FROM ${table}
WHERE key > $1 AND expires_at > now() AND left(key, ${userIndexKeyPrefix.length}) <> '${userIndexKeyPrefix}'
ORDER BY key LIMIT $2`,
    /* values beside the sessions (the user index): data {"value": JSON text}, meta {} (never a session) */
    readValue: `SELECT data->>'value' FROM ${table} WHERE key = $1 AND expires_at > now()`,
    /* held until the transaction ends; another process's update of the key waits (bounded by lock_timeout) */
    lockValue: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
    writeValue: `INSERT INTO ${table} (key, data, meta, expires_at)
VALUES ($1, jsonb_build_object('value', $2::text), '{}', COALESCE(to_timestamp($3::float8 / 1000), 'infinity'))
ON CONFLICT (key) DO UPDATE SET data = excluded.data, meta = excluded.meta, flash = '{}',
  expires_at = excluded.expires_at`,
    removeValue: `DELETE FROM ${table} WHERE key = $1`,
    /* expired rows, a batch at a time; rows another sweeper (or a writer) holds are skipped */
    sweep: `DELETE FROM ${table} WHERE key IN (
  SELECT key FROM ${table} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED
) AND expires_at <= now()`,
    clear: `DELETE FROM ${table}`,
    columns: `SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
  };
}

export type PostgresStatements = ReturnType<typeof statementsFor>;
