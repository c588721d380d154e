import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import type { SessionChange } from '../../src';
import { SessionConfigError, session } from '../../src';
import { unreadableSession } from '../../src/store/contract';
import { PostgresSessionStore } from '../../src/stores/postgres/store';
import { createTableSql } from '../../src/stores/postgres/statements';
import {
  postgresAdmin,
  postgresAnswers,
  postgresTableForTest,
  postgresUrl,
  quietLogger,
  testSecret,
} from '../helpers/stores';

const meta = { createdAt: 1, lastSeenAt: 2 };
const inAnHour = () => Date.now() + 3_600_000;
const change = (fields: Partial<SessionChange>): SessionChange => ({
  set: {},
  removed: [],
  meta,
  create: false,
  ...fields,
});

function storeForTest(options: Partial<ConstructorParameters<typeof PostgresSessionStore>[0]> = {}) {
  const store = new PostgresSessionStore({
    url: postgresUrl,
    table: postgresTableForTest('pgs'),
    ...options,
  });
  after(() => store.close());
  return store;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the postgres store', { skip: !postgresAnswers() && 'PostgreSQL does not answer' }, () => {
  it('keeps data keys of any spelling and values PostgreSQL cannot hold in jsonb, as their exact JSON', async () => {
    const store = storeForTest();
    const oddKeys = [
      "it's",
      'say "hi"',
      'a.b.c',
      'back\\slash',
      '$where',
      'with space',
      'ünïcødé 键 🔑',
      '{a,b}',
      '',
      '-',
    ];
    const set: Record<string, string> = {};
    oddKeys.forEach((key, index) => (set[key] = JSON.stringify({ index })));
    set.nul = JSON.stringify('a\u0000b');
    set.big = '12345678901234567890123';
    set.float = '1.0e+2';
    set.nested = JSON.stringify({ deep: [{ x: [1, { y: null }] }], 'key"q': true });
    assert.equal(await store.apply('s', change({ set, create: true }), inAnHour()), 'saved');
    const record = await store.read('s');
    assert.ok(record && record !== unreadableSession);
    assert.deepEqual(Object.keys(record.data).sort(), Object.keys(set).sort());
    assert.equal(record.data.nul, 'a\u0000b');
    assert.deepEqual(record.data.nested, { deep: [{ x: [1, { y: null }] }], 'key"q': true });
    // the JSON text comes back as written: the change tracker compares it, jsonb would re-serialise it
    assert.equal(record.json!.get('big'), '12345678901234567890123');
    assert.equal(record.json!.get('float'), '1.0e+2');
    for (const key of oddKeys) assert.equal(record.json!.get(key), set[key]);

    const removed = ['a.b.c', "it's", '$where'];
    await store.apply('s', change({ set: { 'with space': '"changed"' }, removed }), inAnHour());
    const after = await store.read('s');
    assert.ok(after && after !== unreadableSession);
    for (const key of removed) assert.equal(key in after.data, false, key);
    assert.equal(after.data['with space'], 'changed');
    assert.deepEqual(after.data['ünïcødé 键 🔑'], { index: 6 });
    assert.equal(Object.keys(after.data).length, Object.keys(set).length - removed.length);
  });

  it('drops the keys __proto__ and constructor on read, as the other stores do', async () => {
    const store = storeForTest();
    const set = JSON.parse('{"__proto__":"{\\"polluted\\":true}","constructor":"1","fine":"2"}') as Record<
      string,
      string
    >;
    await store.apply('s', change({ set, create: true }), inAnHour());
    const record = await store.read('s');
    assert.ok(record && record !== unreadableSession);
    assert.deepEqual(Object.keys(record.data), ['fine']);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });

  it("answers 'gone' for an expired session, and a create that meets an expired row starts afresh", async () => {
    const store = storeForTest();
    const created = change({ set: { a: '1' }, create: true, flash: { aged: [], flashed: ['a'] } });
    await store.apply('s', created, Date.now() + 50);
    await sleep(100);
    assert.equal(await store.apply('s', change({ set: { b: '2' } }), inAnHour()), 'gone');
    assert.equal(await store.read('s'), undefined);
    assert.equal(await store.expiryOf('s'), undefined);
    assert.equal(await store.remove('s'), false, 'an expired row was not a live session');
    await store.apply('t', created, Date.now() + 50);
    await sleep(100);
    assert.equal(await store.apply('t', change({ set: { b: '2' }, create: true }), inAnHour()), 'saved');
    const record = await store.read('t');
    assert.ok(record && record !== unreadableSession);
    assert.deepEqual({ ...record.data }, { b: 2 });
    assert.deepEqual(record.meta, meta);
  });

  it('merges flash keys as merge.ts does: aged ones leave, flashed ones join once, a replace starts empty', async () => {
    const store = storeForTest();
    const flashOf = async () => {
      const record = await store.read('s');
      assert.ok(record && record !== unreadableSession);
      return record.meta.flash;
    };
    await store.apply(
      's',
      change({ create: true, flash: { aged: [], flashed: ['a', 'b', 'a'] } }),
      inAnHour(),
    );
    assert.deepEqual(await flashOf(), ['a', 'b']);
    await store.apply('s', change({ flash: { aged: ['a'], flashed: ['c', 'b'] } }), inAnHour());
    assert.deepEqual(await flashOf(), ['b', 'c']);
    await store.apply('s', change({ set: { x: '1' } }), inAnHour());
    assert.deepEqual(await flashOf(), ['b', 'c'], 'a change that leaves flash alone keeps it');
    await store.apply('s', change({ flash: { aged: ['b', 'c'], flashed: [] } }), inAnHour());
    assert.equal(await flashOf(), undefined);
    await store.apply('s', change({ create: true, flash: { aged: [], flashed: ['d'] } }), inAnHour());
    await store.apply('s', change({ create: true, replace: true, set: { y: '2' } }), inAnHour());
    assert.equal(await flashOf(), undefined);
  });

  it('reads a row that is not a session record as unreadable, and never lists it', async () => {
    const store = storeForTest();
    await store.apply('good', change({ create: true }), inAnHour());
    const table = (store as unknown as { qualifiedTable: string }).qualifiedTable;
    const rows: Array<[string, string, string]> = [
      ['array', '[1]', '{"createdAt":1,"lastSeenAt":2}'],
      ['not-text', '{"a":1}', '{"createdAt":1,"lastSeenAt":2}'],
      ['bad-json', '{"a":"{"}', '{"createdAt":1,"lastSeenAt":2}'],
      ['bad-meta', '{}', '{"createdAt":"yesterday"}'],
    ];
    for (const [key, data, rowMeta] of rows) {
      await postgresAdmin(
        `INSERT INTO ${table} (key, data, meta, expires_at) VALUES ('${key}', '${data}', '${rowMeta}', now() + interval '1 hour')`,
      );
      assert.equal(await store.read(key), unreadableSession, key);
    }
    const listed: string[] = [];
    for await (const [key] of store.list()) listed.push(key);
    assert.deepEqual(listed, ['good']);
  });

  it('lists every live session across pages, without expired rows or user index values', async () => {
    const store = storeForTest();
    const keys = Array.from({ length: 450 }, (_, index) => `k${String(index).padStart(3, '0')}`);
    await Promise.all(keys.map((key) => store.apply(key, change({ create: true }), inAnHour())));
    await store.apply('expired', change({ create: true }), Date.now() + 20);
    await store.updateValue('user-sessions:u', () => ({ value: ['x'] }));
    await sleep(50);
    const listed: string[] = [];
    for await (const [key] of store.list()) listed.push(key);
    assert.deepEqual(listed, keys);
  });

  it('updates a value atomically across stores on separate pools (processes), and lets it expire', async () => {
    const table = postgresTableForTest('pgvalues');
    const stores = [0, 1].map(() => {
      const store = new PostgresSessionStore({ url: postgresUrl, table });
      after(() => store.close());
      return store;
    });
    const key = 'user-sessions:counter';
    await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        stores[index % 2]!.updateValue(key, async (current) => {
          await sleep(1);
          return { value: ((current as number | undefined) ?? 0) + 1 };
        }),
      ),
    );
    assert.equal(await stores[0]!.readValue(key), 30);
    await stores[1]!.updateValue(key, () => ({ value: 'soon gone', expiresAt: Date.now() + 30 }));
    await sleep(80);
    assert.equal(await stores[0]!.readValue(key), undefined);
  });

  it('sweeps expired rows in batches, keeps live rows and values without expiry, and two sweepers at once are harmless', async () => {
    const table = postgresTableForTest('pgsweep');
    const [first, second] = [0, 1].map(() => {
      const store = new PostgresSessionStore({ url: postgresUrl, table, sweepInterval: '1h' });
      after(() => store.close());
      return store;
    }) as [PostgresSessionStore, PostgresSessionStore];
    const soon = Date.now() + 100;
    await Promise.all(
      Array.from({ length: 1200 }, (_, index) => first.apply(`e${index}`, change({ create: true }), soon)),
    );
    await first.apply('live', change({ create: true }), inAnHour());
    await first.updateValue('user-sessions:u', () => ({ value: 1 }));
    await sleep(150);
    const [a, b] = await Promise.all([first.sweep(), second.sweep()]);
    assert.equal(a + b, 1200);
    const [[count]] = (await postgresAdmin(`SELECT count(*)::int FROM "${table}"`)) as [[number]];
    assert.equal(count, 2);
    assert.equal(await first.readValue('user-sessions:u'), 1);
  });

  it('creates the table in the schema given, and with createTable: false uses the table the README creates', async () => {
    const schema = `rcs_schema_${process.pid}`;
    await postgresAdmin(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    after(() => postgresAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    const inSchema = storeForTest({ schema, table: 'sessions' });
    await inSchema.apply('s', change({ create: true }), inAnHour());
    const [[found]] = (await postgresAdmin(`SELECT to_regclass('${schema}.sessions')::text`)) as [[string]];
    assert.equal(found, `${schema}.sessions`);

    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const table = postgresTableForTest('pgmigrated');
    const printed = createTableSql(undefined, 'sessions').join(';\n') + ';';
    const unindented = (text: string) => text.replace(/^ +/gm, '');
    assert.ok(
      unindented(readme).includes(unindented(printed)),
      'the README prints the CREATE TABLE statements the driver runs',
    );
    await postgresAdmin(...printed.replaceAll('"sessions"', `"${table}"`).split(';\n'));
    const migrated = storeForTest({ table, createTable: false });
    assert.equal(await migrated.apply('s', change({ set: { a: '1' }, create: true }), inAnHour()), 'saved');
    assert.deepEqual({ ...((await migrated.read('s')) as { data: object }).data }, { a: 1 });
  });

  it('names the table when it is missing (createTable: false) or has the wrong columns, and writes nothing', async () => {
    const missing = storeForTest({ createTable: false });
    await assert.rejects(missing.read('s'), /sessions table "rcs_pgs_\d+_\d+" does not exist/);
    const table = postgresTableForTest('pgwrong');
    await postgresAdmin(`CREATE TABLE "${table}" (sid varchar PRIMARY KEY, sess json, expire timestamp)`);
    const errors: unknown[] = [];
    const wrong = storeForTest({ table });
    wrong.onError((error) => errors.push(error));
    await assert.rejects(
      wrong.apply('s', change({ create: true }), inAnHour()),
      new RegExp(
        `The table "${table}" is not a sessions table of this library: it needs the columns key text`,
      ),
    );
    assert.equal(errors.length, 1, 'reported through the logger');
    const [[rows]] = (await postgresAdmin(`SELECT count(*)::int FROM "${table}"`)) as [[number]];
    assert.equal(rows, 0);
  });

  it('refuses bad names and options with a SessionConfigError, never SQL', () => {
    for (const table of ['sessions; DROP TABLE x', 'a"b', '1abc', 'x'.repeat(52), '', 'sp ace']) {
      assert.throws(() => new PostgresSessionStore({ url: postgresUrl, table }), SessionConfigError, table);
    }
    assert.throws(
      () => new PostgresSessionStore({ url: postgresUrl, schema: 'public.x' }),
      SessionConfigError,
    );
    const pool = new Pool({ connectionString: postgresUrl });
    after(() => pool.end());
    assert.throws(() => new PostgresSessionStore({ url: postgresUrl, pool }), /url or pool, not both/);
    assert.throws(
      () => new PostgresSessionStore({ pool: {} as unknown as Pool }),
      /postgres.pool must be a pg.Pool/,
    );
    assert.throws(
      () => new PostgresSessionStore({ url: postgresUrl, sweepInterval: 'often' }),
      /postgres.sweepInterval/,
    );
    assert.throws(
      () => new PostgresSessionStore({ url: postgresUrl, createTable: 'no' as unknown as boolean }),
      /createTable must be true or false/,
    );
    assert.throws(
      () =>
        session({ secret: testSecret, logger: quietLogger, driver: 'postgres', postgres: { table: 'a-b' } }),
      SessionConfigError,
    );
  });

  it('reports an unreachable database once per outage, not once per query', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const store = new PostgresSessionStore({
      url: `postgres://postgres@127.0.0.1:${port}/test`,
      table: 'unused',
    });
    after(() => store.close());
    const errors: unknown[] = [];
    store.onError((error) => errors.push(error));
    await assert.rejects(store.read('s'), /ECONNREFUSED/);
    await assert.rejects(store.apply('s', change({ create: true }), inAnHour()), /ECONNREFUSED/);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /ECONNREFUSED/);
  });

  it("uses an app's pool and never closes it", async () => {
    const pool = new Pool({ connectionString: postgresUrl });
    after(() => pool.end());
    const store = new PostgresSessionStore({ pool, table: postgresTableForTest('pgpool') });
    await store.apply('s', change({ create: true }), inAnHour());
    await store.close();
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(rows[0]!.one, 1);
  });

  it('without the pg package, names it in a SessionConfigError', async () => {
    const preload = join(__dirname, '..', 'helpers', 'without-optional-peers.js');
    const script = `
      const { session } = require(${JSON.stringify(join(__dirname, '..', '..', 'src'))});
      try { session({ driver: 'postgres', postgres: { url: 'postgres://nowhere/db' } }); console.log('no error'); }
      catch (error) { console.log(error.name + ': ' + error.message); }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', preload, '-e', script], {
      env: { ...process.env, SPEC_ABSENT_PACKAGES: 'pg' },
    });
    assert.match(stdout, /^SessionConfigError: driver 'postgres' needs the pg package: npm install pg/);
  });
});
