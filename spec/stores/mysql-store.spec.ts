import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createPool } from 'mysql2';
import { createPool as createPromisePool } from 'mysql2/promise';
import type { SessionChange } from '../../src';
import type { SessionRecord } from '../../src/store/contract';
import { SessionConfigError } from '../../src';
import { unreadableSession } from '../../src/store/contract';
import { sessionStoreFor } from '../../src/stores/create';
import { MysqlSessionStore } from '../../src/stores/mysql/store';
import { createTableSql, tableOf } from '../../src/stores/mysql/statements';
import { mysqlAnswers, mysqlStoreForTest, mysqlTableForTest, mysqlUrl } from '../helpers/stores';

const meta = { createdAt: 1, lastSeenAt: 2 };
const inAnHour = () => Date.now() + 3_600_000;
const change = (fields: Partial<SessionChange>): SessionChange => ({
  set: {},
  removed: [],
  meta,
  create: false,
  ...fields,
});
const dataOf = (record: unknown) => ({ ...(record as SessionRecord).data });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw promise pool for the spec's own statements; ended after the file's tests. */
function rawPool(options: object = {}) {
  const pool = createPromisePool({ uri: mysqlUrl, connectionLimit: 3, ...options });
  after(() => pool.end());
  return pool;
}

const oddKeys = [
  'a"b',
  'a.b',
  'a\\b',
  'a\\"b',
  '$',
  '$.x',
  '*',
  '**',
  'a b',
  '[0]',
  "it's",
  'é😀',
  'ключ',
  '\t\n',
  '',
];

describe('the mysql driver', { skip: mysqlAnswers() ? false : 'MariaDB/MySQL is not running' }, () => {
  describe('data keys and values as stored JSON', () => {
    it('sets and removes keys of any characters, each through its own quoted JSON path', async () => {
      const store = mysqlStoreForTest();
      const set = Object.fromEntries(oddKeys.map((key, index) => [key, String(index)]));
      assert.equal(await store.apply('s', change({ set, create: true }), inAnHour()), 'saved');
      const kept = oddKeys.filter((_key, index) => index % 2 === 0);
      const removed = oddKeys.filter((_key, index) => index % 2 === 1);
      assert.equal(await store.apply('s', change({ removed }), inAnHour()), 'saved');
      const record = (await store.read('s')) as SessionRecord;
      assert.deepEqual(
        Object.keys(record.data).sort(),
        [...kept].sort(),
        'exactly the kept keys, none of the removed ones, no other key touched',
      );
      for (const key of kept) assert.equal(record.data[key], oddKeys.indexOf(key));
    });

    it('keeps each value as its exact JSON text: NUL, big numbers, strings holding JSON, emoji, nesting', async () => {
      const store = mysqlStoreForTest();
      const values: Record<string, string> = {
        nul: JSON.stringify('a\u0000b'),
        big: '12345678901234567890123',
        float: '1.0e+300',
        jsonInAString: JSON.stringify('{"a":[1,2]}'),
        quoted: JSON.stringify('"'),
        backslashes: JSON.stringify('\\\\"\\'),
        emoji: JSON.stringify('😀 Ünïcödé'),
        nested: '{"z":1,"a":{"deep":[null,true,"x"]}}',
        nothing: 'null',
      };
      await store.apply('s', change({ set: values, create: true }), inAnHour());
      const record = (await store.read('s')) as SessionRecord;
      assert.deepEqual(Object.fromEntries(record.json!), values, 'the JSON text of every key, unchanged');
      assert.equal(record.data.nul, 'a\u0000b');
      assert.equal(record.data.jsonInAString, '{"a":[1,2]}');
      assert.deepEqual(record.data.nested, { z: 1, a: { deep: [null, true, 'x'] } });
    });

    it('drops __proto__, constructor and prototype on read', async () => {
      const store = mysqlStoreForTest();
      const set = { __proto__: '{"polluted":true}', constructor: '1', prototype: '2', safe: '3' };
      await store.apply(
        's',
        change({ set: JSON.parse(JSON.stringify(set)) as never, create: true }),
        inAnHour(),
      );
      const record = (await store.read('s')) as SessionRecord;
      assert.deepEqual(Object.keys(record.data), ['safe']);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('removes a key that is not stored without touching the others', async () => {
      const store = mysqlStoreForTest();
      await store.apply('s', change({ set: { a: '1' }, create: true }), inAnHour());
      assert.equal(await store.apply('s', change({ removed: ['missing', 'a.b'] }), inAnHour()), 'saved');
      assert.deepEqual(dataOf(await store.read('s')), { a: 1 });
    });

    it('reads a row that is not a well-formed record as unreadable, and lists it not', async () => {
      const table = mysqlTableForTest('foreign');
      const store = mysqlStoreForTest({ table });
      await store.apply('good', change({ create: true }), inAnHour());
      const rows = [
        ['array', '[1]', null, JSON.stringify(meta)],
        ['number-value', '{"a":5}', null, JSON.stringify(meta)],
        ['bad-json-text', '{"a":"not json"}', null, JSON.stringify(meta)],
        ['bad-meta', '{}', null, '{"createdAt":"yesterday","lastSeenAt":2}'],
        ['bad-flash', '{}', '[1]', JSON.stringify(meta)],
        ['a-value', '"a value of something else"', null, null],
      ];
      await rawPool().query(`INSERT INTO ${table} (store_key, data, flash, meta, expires_at) VALUES ?`, [
        rows.map((row) => [...row, inAnHour()]),
      ]);
      for (const [key] of rows) assert.equal(await store.read(key!), unreadableSession, key!);
      const listed: string[] = [];
      for await (const [key] of store.list()) listed.push(key);
      assert.deepEqual(listed, ['good']);
    });

    it('stores a session of 40 KB and one near the 64 KB maxSize, and changes one key of it alone', async () => {
      const store = mysqlStoreForTest();
      const chunk = (size: number) => JSON.stringify('😀x'.repeat(size / 3));
      await store.apply('forty', change({ set: { blob: chunk(40_000), n: '1' }, create: true }), inAnHour());
      await store.apply('near', change({ set: { blob: chunk(64_000), n: '1' }, create: true }), inAnHour());
      await store.apply('near', change({ set: { n: '2' } }), inAnHour());
      const forty = (await store.read('forty')) as SessionRecord;
      const near = (await store.read('near')) as SessionRecord;
      assert.equal(forty.json!.get('blob'), chunk(40_000));
      assert.equal(near.json!.get('blob'), chunk(64_000));
      assert.equal(near.data.n, 2);
    });
  });

  describe("'gone' and expiry", () => {
    it("refuses a change to an expired row ('gone'), writes nothing, and a create overwrites that row", async () => {
      const store = mysqlStoreForTest();
      await store.apply(
        's',
        change({ set: { old: '1' }, create: true, flash: { aged: [], flashed: ['old'] } }),
        Date.now() + 40,
      );
      await sleep(80);
      assert.equal(await store.apply('s', change({ set: { a: '1' } }), inAnHour()), 'gone');
      assert.equal(await store.read('s'), undefined);
      assert.equal(await store.remove('s'), false, 'an expired session was not there');
      assert.equal(await store.expiryOf('s'), undefined);
      assert.equal(
        await store.apply('s', change({ set: { fresh: '2' }, create: true }), inAnHour()),
        'saved',
      );
      const record = (await store.read('s')) as SessionRecord;
      assert.deepEqual({ ...record.data }, { fresh: 2 }, 'nothing of the expired session comes back');
      assert.equal(record.meta.flash, undefined);
    });

    it('merges a create into a live session, and tells its expiry', async () => {
      const store = mysqlStoreForTest();
      const expiresAt = inAnHour();
      await store.apply('s', change({ set: { a: '1' }, create: true }), expiresAt);
      await store.apply('s', change({ set: { b: '2' }, create: true }), expiresAt);
      assert.deepEqual(dataOf(await store.read('s')), { a: 1, b: 2 });
      assert.equal(await store.expiryOf('s'), expiresAt);
    });

    it('flash keys: aged ones leave, flashed ones join once, a replacing change drops the stored ones', async () => {
      const store = mysqlStoreForTest();
      const flashOf = async () => ((await store.read('s')) as SessionRecord).meta.flash;
      await store.apply(
        's',
        change({ create: true, flash: { aged: [], flashed: ['a', 'b', 'a'] } }),
        inAnHour(),
      );
      assert.deepEqual(await flashOf(), ['a', 'b']);
      await store.apply('s', change({ flash: { aged: ['a'], flashed: ['b', 'c.d'] } }), inAnHour());
      assert.deepEqual((await flashOf())?.sort(), ['b', 'c.d']);
      await store.apply('s', change({}), inAnHour());
      assert.deepEqual((await flashOf())?.sort(), ['b', 'c.d'], 'a change without flash leaves them');
      await store.apply(
        's',
        change({ create: true, replace: true, flash: { aged: [], flashed: ['e'] } }),
        inAnHour(),
      );
      assert.deepEqual(await flashOf(), ['e']);
      await store.apply('s', change({ flash: { aged: ['e'], flashed: [] } }), inAnHour());
      assert.equal(await flashOf(), undefined);
    });
  });

  describe('pools the app made', () => {
    for (const foundRows of [true, false]) {
      for (const api of ['mysql2', 'mysql2/promise'] as const) {
        it(`answers 'saved' for a change that changes nothing and 'gone' for a missing session, on a ${api} pool ${foundRows ? 'with' : 'without'} FOUND_ROWS`, async () => {
          const poolOptions = {
            uri: mysqlUrl,
            connectionLimit: 2,
            ...(foundRows ? {} : { flags: ['-FOUND_ROWS'] }),
          };
          const callbackPool = createPool(poolOptions);
          after(() =>
            callbackPool
              .promise()
              .end()
              .catch(() => undefined),
          );
          const pool = api === 'mysql2' ? callbackPool : callbackPool.promise();
          const store = mysqlStoreForTest({ url: undefined, pool });
          const expiresAt = inAnHour();
          const same = change({ set: { a: '1' }, create: false });
          await store.apply('s', { ...same, create: true }, expiresAt);
          assert.equal(
            await store.apply('s', same, expiresAt),
            'saved',
            'the same change again: no row changed',
          );
          assert.equal(await store.apply('s', same, expiresAt), 'saved');
          assert.equal(await store.apply('missing', same, expiresAt), 'gone');
          await store.close();
          const [rows] = await callbackPool.promise().query('SELECT 1 AS one');
          assert.deepEqual(rows, [{ one: 1 }], "close() leaves the app's pool open");
        });
      }
    }

    it("without the server's info on an UPDATE, tells an unchanged session from a missing one by its expiry", async () => {
      const pool = createPool({ uri: mysqlUrl, connectionLimit: 2, flags: ['-FOUND_ROWS'] });
      after(() => pool.promise().end());
      const store = mysqlStoreForTest({ url: undefined, pool });
      const connection = (
        store as unknown as { connection: { run: (...args: unknown[]) => Promise<object> } }
      ).connection;
      const run = connection.run.bind(connection);
      connection.run = async (...args) => {
        const answer = await run(...args);
        return Array.isArray(answer) ? answer : { ...answer, info: '' };
      };
      const expiresAt = inAnHour();
      const same = change({ set: { a: '1' } });
      await store.apply('s', { ...same, create: true }, expiresAt);
      assert.equal(await store.apply('s', same, expiresAt), 'saved');
      assert.equal(await store.apply('missing', same, expiresAt), 'gone');
    });

    it('refuses something that is not a mysql2 pool, and url with pool, with a SessionConfigError', () => {
      for (const pool of [{}, 'mysql://x', { getConnection: () => undefined }]) {
        assert.throws(
          () => sessionStoreFor({ driver: 'mysql', mysql: { pool: pool as never } }),
          SessionConfigError,
        );
      }
      const pool = createPool({ uri: mysqlUrl });
      after(() => pool.end());
      assert.throws(
        () => sessionStoreFor({ driver: 'mysql', mysql: { pool, url: mysqlUrl } }),
        /Give mysql.url or mysql.pool, not both/,
      );
    });
  });

  describe('the table', () => {
    it('refuses a table name that is not a plain identifier, and a createTable that is not a boolean', () => {
      for (const table of ['', 'a;drop table x', 'a.b.c', '`x`', 'x y', '1abc', 'a'.repeat(65), 'db.', 42]) {
        assert.throws(
          () => sessionStoreFor({ driver: 'mysql', mysql: { url: mysqlUrl, table: table as string } }),
          (error: unknown) => error instanceof SessionConfigError && /mysql\.table/.test(error.message),
          String(table),
        );
      }
      assert.throws(
        () => sessionStoreFor({ driver: 'mysql', mysql: { url: mysqlUrl, createTable: 'no' as never } }),
        /Option mysql.createTable is "no"; write true or false./,
      );
      assert.equal(tableOf('test.sessions').sql, '`test`.`sessions`');
    });

    it('with createTable: false, says the table is missing, naming it, then works once the README SQL made it', async () => {
      const table = mysqlTableForTest('nocreate');
      const errors: unknown[] = [];
      const store = mysqlStoreForTest({ table: `test.${table}`, createTable: false });
      store.onError((error) => errors.push(error));
      await assert.rejects(store.read('s'), new RegExp(`the session table test.${table} does not exist`));
      const pool = rawPool();
      await pool.query(createTableSql(tableOf(table)));
      assert.equal(await store.apply('s', change({ set: { a: '1' }, create: true }), inAnHour()), 'saved');
      assert.equal(((await store.read('s')) as SessionRecord).data.a, 1);
      assert.equal(errors.length, 1);
    });

    it('creates the table the README prints for createTable: false', () => {
      const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
      const indented = createTableSql(tableOf('sessions'))
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n');
      assert.ok(readme.includes(`${indented};\n`), 'the README has the exact CREATE TABLE of the driver');
    });

    it('says which columns a table of the wrong shape lacks, naming it, and writes nothing there', async () => {
      const table = mysqlTableForTest('wrong');
      const pool = rawPool();
      await pool.query(`CREATE TABLE ${table} (sid VARCHAR(255) PRIMARY KEY, sess JSON, expire DATETIME)`);
      const store = mysqlStoreForTest({ table });
      await assert.rejects(
        store.apply('s', change({ set: { a: '1' }, create: true }), inAnHour()),
        new RegExp(`the session table ${table} has no column store_key, data, flash, meta, expires_at`),
      );
      const [rows] = await pool.query(`SELECT COUNT(*) AS count FROM ${table}`);
      assert.deepEqual(rows, [{ count: 0 }]);
    });
  });

  describe('the sweeper', () => {
    it('deletes expired rows in batches, keeps live ones, and several sweeping at once is harmless', async () => {
      const table = mysqlTableForTest('sweep');
      const first = mysqlStoreForTest({ table });
      const second = mysqlStoreForTest({ table });
      await first.apply('live', change({ create: true }), inAnHour());
      await first.updateValue('user-sessions:kept', () => ({ value: 1 }));
      const pool = rawPool();
      const expired = Array.from({ length: 1200 }, (_, index) => [`old${index}`, '{}', '{}', '{}', 1]);
      await pool.query(`INSERT INTO ${table} (store_key, data, flash, meta, expires_at) VALUES ?`, [expired]);
      const [a, b] = await Promise.all([first.sweep(), second.sweep()]);
      assert.equal(a + b, 1200);
      const [rows] = await pool.query(`SELECT store_key FROM ${table} ORDER BY store_key`);
      assert.deepEqual(
        (rows as Array<{ store_key: string }>).map((row) => row.store_key),
        ['live', 'user-sessions:kept'],
      );
    });

    it('runs on its interval, unref-ed, and close() stops it', async () => {
      const table = mysqlTableForTest('interval');
      const store = mysqlStoreForTest({ table, sweepIntervalMs: 50 });
      await store.apply('s', change({ create: true }), Date.now() + 20);
      const pool = rawPool();
      let count = -1;
      for (let attempt = 0; attempt < 60 && count !== 0; attempt += 1) {
        await sleep(50);
        const [rows] = await pool.query(`SELECT COUNT(*) AS count FROM ${table}`);
        count = (rows as Array<{ count: number }>)[0]!.count;
      }
      assert.equal(count, 0, 'the expired row is swept without a call');
    });
  });

  describe('the user index', () => {
    it('two stores (two pools, as two processes) take turns: 2 × 20 concurrent increments make 40', async () => {
      const table = mysqlTableForTest('index');
      const stores = [mysqlStoreForTest({ table }), mysqlStoreForTest({ table })];
      const key = 'user-sessions:u1';
      const increment = (current: unknown) => ({ value: ((current as number | undefined) ?? 0) + 1 });
      await Promise.all(
        stores.flatMap((store) => Array.from({ length: 20 }, () => store.updateValue(key, increment))),
      );
      assert.equal(await stores[1]!.readValue(key), 40);
    });

    it('bounds the wait for a lock another connection holds, then restores the connection’s own lock wait', async () => {
      const table = mysqlTableForTest('lockwait');
      const appPool = createPool({ uri: mysqlUrl, connectionLimit: 1 });
      after(() => appPool.end());
      const store = mysqlStoreForTest({ url: undefined, pool: appPool, table, lockTimeoutMs: 1000 });
      const key = 'user-sessions:held';
      await store.updateValue(key, () => ({ value: 'first' }));
      const [[own]] = (await appPool
        .promise()
        .query('SELECT @@SESSION.innodb_lock_wait_timeout AS wait')) as unknown as [[{ wait: number }]];
      const holder = await rawPool().getConnection();
      after(() => holder.release());
      await holder.query('START TRANSACTION');
      await holder.query(`SELECT * FROM ${table} WHERE store_key = ? FOR UPDATE`, [key]);
      const started = Date.now();
      await assert.rejects(
        store.updateValue(key, () => ({ value: 'second' })),
        /Lock wait timeout/,
      );
      const waited = Date.now() - started;
      assert.ok(waited >= 900 && waited < 4000, `waited ${waited} ms`);
      await holder.query('ROLLBACK');
      const [rows] = await appPool.promise().query('SELECT @@SESSION.innodb_lock_wait_timeout AS wait');
      assert.deepEqual(rows, [own], "the app pool's connection keeps its own lock wait");
      assert.notEqual(own.wait, 1);
      assert.equal(await store.readValue(key), 'first');
    });

    it('leaves connections free for the reads an update makes, however many users update at once', async () => {
      const appPool = createPool({ uri: mysqlUrl, connectionLimit: 2 });
      after(() => appPool.promise().end());
      const store = mysqlStoreForTest({ url: undefined, pool: appPool });
      await store.apply('s', change({ set: { a: '1' }, create: true }), inAnHour());
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          store.updateValue(`user-sessions:${index}`, async () => ({ value: dataOf(await store.read('s')) })),
        ),
      );
      assert.deepEqual(await store.readValue('user-sessions:7'), { a: 1 });
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    });

    it('forgets a value at its expiry, and a removed value is gone', async () => {
      const store = mysqlStoreForTest();
      await store.updateValue('user-sessions:a', () => ({ value: { x: 1 }, expiresAt: Date.now() + 1000 }));
      await store.updateValue('user-sessions:b', () => ({ value: 'kept' }));
      assert.deepEqual(await store.readValue('user-sessions:a'), { x: 1 });
      await sleep(1100);
      assert.equal(await store.readValue('user-sessions:a'), undefined);
      await store.updateValue('user-sessions:a', (current) => {
        assert.equal(current, undefined, 'an expired value is not handed to the update');
        return { value: 2 };
      });
      assert.equal(await store.readValue('user-sessions:a'), 2);
      await store.updateValue('user-sessions:b', () => undefined);
      assert.equal(await store.readValue('user-sessions:b'), undefined);
      assert.equal(await store.read('user-sessions:a'), unreadableSession, 'a value is not a session record');
    });
  });

  it('lists every live session past one page, never the values', async () => {
    const store = mysqlStoreForTest();
    await Promise.all(
      Array.from({ length: 450 }, (_, index) =>
        store.apply(`s${index}`, change({ create: true }), inAnHour()),
      ),
    );
    await store.apply('expired', change({ create: true }), Date.now() - 1);
    await store.updateValue('user-sessions:u', () => ({ value: 1 }));
    const listed = new Set<string>();
    for await (const [key] of store.list()) listed.add(key);
    assert.equal(listed.size, 450);
    assert.ok(!listed.has('expired') && !listed.has('user-sessions:u'));
  });

  it('without the mysql2 package, driver mysql is a SessionConfigError that names it', async () => {
    const hide = `const Module = require('node:module'); const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'mysql2' || request.startsWith('mysql2/')) {
          throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
        }
        return resolve.call(this, request, ...rest);
      };
      const { session } = require(${JSON.stringify(join(__dirname, '..', '..', 'src'))});
      try { session({ driver: 'mysql', secret: 'x'.repeat(40) }); console.log('no error'); }
      catch (error) { console.log(error.name + ': ' + error.message); }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', hide]);
    assert.equal(
      stdout.trim(),
      "SessionConfigError: driver 'mysql' needs the mysql2 package: npm install mysql2",
    );
  });
});

describe(
  'a MysqlSessionStore left unclosed',
  { skip: mysqlAnswers() ? false : 'MariaDB/MySQL is not running' },
  () => {
    it('does not keep the process alive by its sweeper', () => {
      const store = new MysqlSessionStore({ url: mysqlUrl, table: mysqlTableForTest('unref') });
      after(() => store.close());
    });
  },
);
