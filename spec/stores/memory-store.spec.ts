import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { Keyv } from 'keyv';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { MemoryStore, session } from '../../src';
import { quietLogger, testSecret } from '../helpers/stores';
import { nodeTestAsVitest } from '../helpers/keyv-suite';

type SuiteKeyv = Parameters<typeof keyvTestSuite>[1];

describe('MemoryStore passes @keyv/test-suite', () => {
  const store = () => new MemoryStore();
  keyvTestSuite(nodeTestAsVitest as never, Keyv as unknown as SuiteKeyv, store as never);
  keyvIteratorTests(nodeTestAsVitest as never, Keyv as unknown as SuiteKeyv, store as never);
});

describe('MemoryStore', () => {
  it('keeps at most `max` entries, evicting the least recently used first', async () => {
    const adapter = new MemoryStore({ max: 3 });
    const keyv = new Keyv({ store: adapter });
    await keyv.set('a', 1);
    await keyv.set('b', 2);
    await keyv.set('c', 3);
    await keyv.get('a');
    await keyv.set('d', 4);
    assert.equal(adapter.size, 3);
    assert.equal(await keyv.get('b'), undefined);
    assert.equal(await keyv.get('a'), 1);
  });

  it('sweeps expired entries without being asked for them', async () => {
    const adapter = new MemoryStore({ sweepIntervalMs: 10 });
    const keyv = new Keyv({ store: adapter });
    await Promise.all(Array.from({ length: 100 }, (_, index) => keyv.set(`key${index}`, index, 15)));
    assert.equal(adapter.size, 100);
    for (let waited = 0; adapter.size > 0 && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(adapter.size, 0);
    await adapter.disconnect();
  });

  const meta = { createdAt: 1, lastSeenAt: 2 };
  const dataOf = (record: unknown) => (record as { data: Record<string, unknown> }).data;
  const inAnHour = () => Date.now() + 3_600_000;

  it('applies a change in place: keys set and removed, others kept, meta replaced, flash keys merged', async () => {
    const store = new MemoryStore();
    const created = { set: { a: '1', b: '{"x":1}' }, removed: [], meta, create: true };
    assert.equal(
      await store.applySession('s', { ...created, flash: { aged: [], flashed: ['b'] } }, inAnHour()),
      'saved',
    );
    const later = { createdAt: 1, lastSeenAt: 5 };
    const change = { set: { c: '"new"' }, removed: ['a'], meta: later, create: false };
    assert.equal(
      await store.applySession('s', { ...change, flash: { aged: ['b'], flashed: ['c'] } }, inAnHour()),
      'saved',
    );
    const record = await store.readSession('s');
    assert.ok(record && typeof record === 'object');
    assert.deepEqual({ ...record.data }, { b: { x: 1 }, c: 'new' });
    assert.deepEqual(record.meta, { ...later, flash: ['c'] });
    assert.deepEqual(
      [...record.json!],
      [
        ['b', '{"x":1}'],
        ['c', '"new"'],
      ],
    );
  });

  it("answers 'gone' for a session that is not stored and not created by the change, and writes nothing", async () => {
    const store = new MemoryStore();
    const change = { set: { a: '1' }, removed: [], meta, create: false };
    assert.equal(await store.applySession('s', change, inAnHour()), 'gone');
    await store.applySession('t', { ...change, create: true }, inAnHour());
    await store.removeSession('t');
    assert.equal(await store.applySession('t', change, inAnHour()), 'gone');
    assert.equal(store.size, 0);
  });

  it('hands every reader its own objects, and shows applied sessions to Keyv as whole records', async () => {
    const store = new MemoryStore();
    await store.applySession('s', { set: { list: '[1]' }, removed: [], meta, create: true }, inAnHour());
    const first = await store.readSession('s');
    (dataOf(first).list as number[]).push(2);
    const second = await store.readSession('s');
    assert.deepEqual(dataOf(second).list, [1]);
    const keyv = new Keyv({ store });
    assert.deepEqual(await keyv.get('s'), { data: { list: [1] }, meta });
    const listed = [];
    for await (const entry of keyv.iterator!()) listed.push(entry);
    assert.deepEqual(listed, [['s', { data: { list: [1] }, meta }]]);
  });

  it('reads and changes a session written whole through Keyv, and counts anything else there as unreadable', async () => {
    const store = new MemoryStore();
    const keyv = new Keyv({ store });
    await keyv.set('s', { data: { a: 1 }, meta });
    await store.applySession('s', { set: { b: '2' }, removed: [], meta, create: false }, inAnHour());
    assert.deepEqual({ ...dataOf(await store.readSession('s')) }, { a: 1, b: 2 });
    await keyv.set('t', 'not a session');
    assert.equal(typeof (await store.readSession('t')), 'symbol');
  });

  it('lets an applied session expire, and evicts it like any entry past `max`', async () => {
    const store = new MemoryStore({ max: 1 });
    await store.applySession('s', { set: {}, removed: [], meta, create: true }, Date.now() + 20);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(await store.readSession('s'), undefined);
    await store.applySession('a', { set: {}, removed: [], meta, create: true }, inAnHour());
    await store.applySession('b', { set: {}, removed: [], meta, create: true }, inAnHour());
    assert.equal(await store.readSession('a'), undefined);
    assert.ok(await store.readSession('b'));
  });

  it('stores a save inside res.end(), without holding the response, and the next request reads it', async () => {
    const app = express();
    app.use(session({ secret: testSecret, driver: 'memory', logger: quietLogger }));
    const endedAtOnce: boolean[] = [];
    app.get('/count', (request: Request, response: Response) => {
      const data = request.session as unknown as { count?: number };
      data.count = (data.count ?? 0) + 1;
      response.end(String(data.count));
      endedAtOnce.push(response.writableEnded);
    });
    const agent = supertest.agent(app);
    await agent.get('/count').expect(200, '1');
    await agent.get('/count').expect(200, '2');
    await agent.get('/count').expect(200, '3');
    assert.deepEqual(endedAtOnce, [true, true, true]);
  });
});
