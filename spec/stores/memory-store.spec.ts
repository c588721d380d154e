import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { MemoryStore, session } from '../../src';
import { quietLogger, testSecret } from '../helpers/stores';

describe('MemoryStore', () => {
  const meta = { createdAt: 1, lastSeenAt: 2 };
  const inAnHour = () => Date.now() + 3_600_000;
  const created = { set: {}, removed: [], meta, create: true };

  it('keeps at most `max` sessions, evicting the least recently used first, and never a user index', async () => {
    const store = new MemoryStore({ max: 3 });
    await store.updateValue('user-sessions:u1', () => ({ value: { sessions: {} } }));
    for (const key of ['a', 'b', 'c']) store.applyNow(key, created, inAnHour());
    await store.read('a');
    store.applyNow('d', created, inAnHour());
    assert.equal(store.size, 4);
    assert.equal(await store.read('b'), undefined);
    assert.ok(await store.read('a'));
    assert.ok(await store.readValue('user-sessions:u1'));
  });

  it('sweeps expired sessions without being asked for them', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 10 });
    for (let index = 0; index < 100; index += 1) store.applyNow(`key${index}`, created, Date.now() + 15);
    assert.equal(store.size, 100);
    for (let waited = 0; store.size > 0 && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(store.size, 0);
    await store.close();
  });

  it('gives back the times it was given exactly, whatever they are, and each value as it was stored', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    const cases = [
      { createdAt: now - 40 * 86_400_000, lastSeenAt: now, expiresAt: now + 30 * 86_400_000 },
      { createdAt: 1.5, lastSeenAt: now + 0.1, expiresAt: now + 3_600_000.7 },
      { createdAt: now, lastSeenAt: now, expiresAt: Number.MAX_VALUE },
    ];
    const odd = '"\\u0000 é \\ud800 𝄞 \\"quoted\\""';
    for (const [index, { createdAt, lastSeenAt, expiresAt }] of cases.entries()) {
      const change = { set: { odd, large: JSON.stringify('x'.repeat(2000)) }, removed: [], create: true };
      store.applyNow(`times${index}`, { ...change, meta: { createdAt, lastSeenAt } }, expiresAt);
      const record = store.readNow(`times${index}`);
      assert.ok(record && typeof record === 'object');
      assert.deepEqual(record.meta, { createdAt, lastSeenAt });
      assert.equal(record.json?.get('odd'), odd);
      assert.equal(record.data.large, 'x'.repeat(2000));
      assert.equal(await store.expiryOf(`times${index}`), expiresAt);
    }
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
