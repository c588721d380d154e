import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import KeyvSqlite from '@keyv/sqlite';
import { Keyv } from 'keyv';
import { FileStore, MemoryStore, RedisSessionStore } from '../../src';
import type { SessionChange, SessionOp, SessionStore } from '../../src';
import expressSession from 'express-session';
import { sessionStoreFor } from '../../src/stores/create';
import { ExpressSessionStoreAdapter } from '../../src/stores/express-session';
import { EncryptedStore } from '../../src/store/encrypted';
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
const encryptionKey = 'a passphrase of at least thirty-two characters';
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

    describeOps(create);

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

/** Wrappers and adapters that work ops out themselves (read, work out, write within this process). */
const storesWorkingOpsOut: Array<{ name: string; create: () => SessionStore }> = [
  {
    name: 'memory store, encrypted',
    create: () => new EncryptedStore(new MemoryStore(), [encryptionKey]),
  },
  {
    name: 'file store, encrypted',
    create: () =>
      new EncryptedStore(new FileStore({ directory: temporaryDirectory('contract-sealed') }), [
        encryptionKey,
      ]),
  },
  {
    name: "express-session's MemoryStore, through the adapter",
    create: () =>
      new ExpressSessionStoreAdapter(new expressSession.MemoryStore(), 'express-session', () => {}),
  },
];

for (const { name, create } of storesWorkingOpsOut) {
  describe(`the ${name}, under the store contract's ops`, () => {
    describeOps(create);
  });
}

const increment = (key: string, by: number): SessionOp => ({ op: 'increment', key, by });
const push = (key: string, ...items: unknown[]): SessionOp => ({
  op: 'push',
  key,
  items: items.map((item) => JSON.stringify(item)),
});

/** The increments and pushes of a change, as every store applies them to what it holds. */
function describeOps(create: () => SessionStore): void {
  it('increments from a missing key, by negative and fractional amounts, keeping large integers exact', async () => {
    const store = create();
    const set = { one: '1', large: '9007199254740000', tenth: '0.1', wide: '1234567890123' };
    await store.apply('s', change({ set, create: true }), inAnHour());
    const ops = [
      increment('missing', 1),
      increment('one', -5),
      increment('large', 991),
      increment('tenth', 0.2),
      increment('wide', 1234567890123.5),
    ];
    assert.equal(await store.apply('s', change({ ops }), inAnHour()), 'saved');
    assert.deepEqual(dataOf(await store.read('s')), {
      missing: 1,
      one: -4,
      large: 9007199254740991,
      tenth: 0.1 + 0.2,
      wide: 1234567890123 + 1234567890123.5,
    });
  });

  it('pushes onto a missing key and onto a stored array, whose items keep their JSON', async () => {
    const store = create();
    await store.apply('s', change({ set: { list: '[1,{"b":2,"a":1}]' }, create: true }), inAnHour());
    const ops = [push('list', 3, { z: 1, y: 2 }), push('fresh', 'x')];
    assert.equal(await store.apply('s', change({ ops }), inAnHour()), 'saved');
    const data = dataOf(await store.read('s'));
    assert.deepEqual(data, { list: [1, { b: 2, a: 1 }, 3, { z: 1, y: 2 }], fresh: ['x'] });
    const list = data.list as unknown as Array<Record<string, number>>;
    assert.deepEqual(
      [Object.keys(list[1]!), Object.keys(list[3]!)],
      [
        ['b', 'a'],
        ['z', 'y'],
      ],
    );
  });

  it('replaces a value of another type: an increment starts from 0, a push starts a new array', async () => {
    const store = create();
    const set = { text: '"ten"', object: '{"a":1}', empty: '[]', kept: 'true' };
    await store.apply('s', change({ set, create: true }), inAnHour());
    const ops = [increment('text', 2), push('object', 1), push('empty', 1)];
    assert.equal(await store.apply('s', change({ ops, set: { other: '"set"' } }), inAnHour()), 'saved');
    assert.deepEqual(dataOf(await store.read('s')), {
      text: 2,
      object: [1],
      empty: [1],
      kept: true,
      other: 'set',
    });
  });

  it("answers 'gone' for ops on a session that is not stored, and writes nothing", async () => {
    const store = create();
    assert.equal(await store.apply('s', change({ ops: [increment('n', 1)] }), inAnHour()), 'gone');
    assert.equal(await store.read('s'), undefined);
  });

  it('applies the ops of a change that creates the session to missing keys', async () => {
    const store = create();
    const created = change({ set: { a: '1' }, ops: [increment('n', 5), push('l', 'x')], create: true });
    assert.equal(await store.apply('s', created, inAnHour()), 'saved');
    assert.deepEqual(dataOf(await store.read('s')), { a: 1, n: 5, l: ['x'] });
  });

  it('adds up 20 concurrent increments and keeps 20 concurrent pushes, with the keys set beside them', async () => {
    const store = create();
    await store.apply('s', change({ create: true }), inAnHour());
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        store.apply(
          's',
          change({ set: { [`k${index}`]: '1' }, ops: [increment('n', 1), push('l', index)] }),
          inAnHour(),
        ),
      ),
    );
    const data = dataOf(await store.read('s'));
    assert.equal(data.n, 20);
    assert.deepEqual(
      (data.l as number[]).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, index) => index),
    );
    assert.equal(Object.keys(data).filter((key) => key.startsWith('k')).length, 20);
  });

  it('refuses an increment whose total is not a finite number, and leaves the session as it was', async () => {
    const store = create();
    await store.apply('s', change({ set: { huge: '1e308', a: '1' }, create: true }), inAnHour());
    const overflow = change({ set: { a: '2' }, ops: [increment('huge', 1e308)] });
    await assert.rejects(store.apply('s', overflow, inAnHour()));
    assert.deepEqual(dataOf(await store.read('s')), { huge: 1e308, a: 1 });
  });
}
