import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import KeyvSqlite from '@keyv/sqlite';
import { Keyv } from 'keyv';
import { FileStore, MemoryStore, RedisSessionStore } from '../../src';
import type { SessionChange, SessionStore } from '../../src';
import { sessionStoreFor } from '../../src/stores/create';
import { PostgresSessionStore } from '../../src/stores/postgres/store';
import {
  postgresAnswers,
  postgresTableForTest,
  postgresUrl,
  mysqlAnswers,
  mysqlStoreForTest,
  redisAnswers,
  redisUrl,
  temporaryDirectory,
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
const dataOf = (record: unknown) => ({ ...(record as { data: Record<string, unknown> }).data });

let prefixes = 0;
const storesUnderContract: Array<{ name: string; create: () => SessionStore }> = [
  { name: 'memory', create: () => new MemoryStore() },
  { name: 'file', create: () => new FileStore({ directory: temporaryDirectory('contract') }) },
  {
    name: 'a Keyv (@keyv/sqlite), through the adapter',
    create: () => {
      const directory = temporaryDirectory('contract-sqlite');
      const keyv = new Keyv({ store: new KeyvSqlite(`sqlite://${directory}/sessions.sqlite`) });
      after(() => keyv.disconnect());
      return sessionStoreFor({ store: keyv });
    },
  },
  ...(redisAnswers()
    ? [
        {
          name: 'redis',
          create: () => {
            prefixes += 1;
            const store = new RedisSessionStore({
              url: redisUrl,
              prefix: `rcs-contract-${process.pid}-${prefixes}`,
            });
            after(async () => {
              await store.clear();
              await store.close();
            });
            return store;
          },
        },
      ]
    : []),
  ...(postgresAnswers()
    ? [
        {
          name: 'postgres',
          create: () => {
            const store = new PostgresSessionStore({
              url: postgresUrl,
              table: postgresTableForTest('contract'),
            });
            after(() => store.close());
            return store;
          },
        },
      ]
    : []),
  ...(mysqlAnswers() ? [{ name: 'mysql', create: () => mysqlStoreForTest() }] : []),
];

for (const { name, create } of storesUnderContract) {
  describe(`the ${name} store, under the one store contract`, () => {
    it('applies a change: keys set and removed, the others kept, meta replaced, flash keys merged', async () => {
      const store = create();
      const created = change({
        set: { a: '1', b: '{"x":1}' },
        create: true,
        flash: { aged: [], flashed: ['b'] },
      });
      assert.equal(await store.apply('s', created, inAnHour()), 'saved');
      const later = { createdAt: 1, lastSeenAt: 5 };
      const next = change({
        set: { c: '"new"' },
        removed: ['a'],
        meta: later,
        flash: { aged: ['b'], flashed: ['c'] },
      });
      assert.equal(await store.apply('s', next, inAnHour()), 'saved');
      const record = await store.read('s');
      assert.deepEqual(dataOf(record), { b: { x: 1 }, c: 'new' });
      assert.deepEqual((record as { meta: object }).meta, { ...later, flash: ['c'] });
    });

    it("answers 'gone' for a session that is not stored and that the change does not create, and writes nothing", async () => {
      const store = create();
      assert.equal(await store.apply('s', change({ set: { a: '1' } }), inAnHour()), 'gone');
      assert.equal(await store.read('s'), undefined);
    });

    it('says whether a removed session was there, and a later change cannot bring it back', async () => {
      const store = create();
      await store.apply('t', change({ set: { a: '1' }, create: true }), inAnHour());
      assert.equal(await store.remove('t'), true);
      assert.equal(await store.remove('t'), false);
      assert.equal(await store.apply('t', change({ set: { a: '2' } }), inAnHour()), 'gone');
      assert.equal(await store.read('t'), undefined);
    });

    it('replaces a session whole when the change says so', async () => {
      const store = create();
      await store.apply('s', change({ set: { a: '1', b: '2' }, create: true }), inAnHour());
      await store.apply('s', change({ set: { c: '3' }, create: true, replace: true }), inAnHour());
      assert.deepEqual(dataOf(await store.read('s')), { c: 3 });
    });

    it('merges concurrent changes of different keys without losing one', async () => {
      const store = create();
      await store.apply('s', change({ create: true }), inAnHour());
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.apply('s', change({ set: { [`k${index}`]: '1' } }), inAnHour()),
        ),
      );
      assert.equal(Object.keys(dataOf(await store.read('s'))).length, 20);
    });

    it('hands every reader its own objects', async () => {
      const store = create();
      await store.apply('s', change({ set: { list: '[1]' }, create: true }), inAnHour());
      const first = await store.read('s');
      (dataOf(first).list as number[]).push(2);
      assert.deepEqual(dataOf(await store.read('s')).list, [1]);
    });

    it('lets a session expire at its expiry', async () => {
      const store = create();
      await store.apply('s', change({ set: { a: '1' }, create: true }), Date.now() + 30);
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(await store.read('s'), undefined);
    });

    it('keeps values beside the sessions, updated one at a time, and lists only the sessions', async () => {
      const store = create();
      const key = 'user-sessions:u1';
      await Promise.all(
        Array.from({ length: 10 }, () =>
          store.updateValue(key, (current) => ({ value: ((current as number | undefined) ?? 0) + 1 })),
        ),
      );
      assert.equal(await store.readValue(key), 10);
      await store.apply('s', change({ create: true }), inAnHour());
      const listed: string[] = [];
      for await (const [listedKey] of store.list()) listed.push(listedKey);
      assert.deepEqual(listed, ['s']);
      await store.updateValue(key, () => undefined);
      assert.equal(await store.readValue(key), undefined);
    });
  });
}
