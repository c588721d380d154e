import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import supertest from 'supertest';
import { RedisStore } from '../../src';
import { createTestApp } from '../helpers/app';
import { redisAnswers, redisUrl, testSecret } from '../helpers/stores';
import { signSessionId } from '../../src/session/cookie';
import { generateSessionId, storeKeyOf } from '../../src/session/ids';

describe(
  'the Redis driver with a client the app made',
  { skip: redisAnswers() ? false : 'Redis is not running' },
  () => {
    it('stores sessions through that client, and leaves it open when the session store disconnects', async () => {
      const client = createClient({ url: redisUrl });
      await client.connect();
      const prefix = `rcs-test-client-${process.pid}`;
      after(async () => {
        await new RedisStore({ client, prefix }).clear();
        client.destroy();
      });
      const { app, handler } = createTestApp({ driver: 'redis', redis: { client, prefix } });
      const agent = supertest.agent(app);
      await agent.put('/keys/user').send({ value: 'sharon' }).expect(200);
      assert.deepEqual((await agent.get('/session')).body.data, { user: 'sharon' });
      assert.ok((await client.keys(`${prefix}::*`)).length === 1, 'the session is in Redis under the prefix');
      await handler.store.disconnect();
      assert.equal(client.isOpen, true, "the app's client stays open");
    });
  },
);

describe(
  'a session stored by version 0.1 in Redis (one JSON string)',
  { skip: redisAnswers() ? false : 'Redis is not running' },
  () => {
    it('is read, kept signed in, and rewritten as a hash on first use', async () => {
      const prefix = `rcs-test-upgrade-${process.pid}`;
      const { app, handler } = createTestApp({ driver: 'redis', redis: { url: redisUrl, prefix } });
      after(async () => {
        const cleaner = new RedisStore({ url: redisUrl, prefix });
        await cleaner.clear();
        await cleaner.disconnect();
        await handler.store.disconnect();
      });
      const sessionId = generateSessionId();
      const now = Date.now();
      const client = createClient({ url: redisUrl });
      await client.connect();
      after(() => client.destroy());
      const redisKey = `${prefix}::${storeKeyOf(sessionId)}`;
      const oldRecord = {
        value: { data: { user: 'sharon' }, meta: { createdAt: now, lastSeenAt: now } },
        expires: now + 60_000,
      };
      await client.set(redisKey, JSON.stringify(oldRecord), { PX: 60_000 });
      const cookie = `sid=${encodeURIComponent(signSessionId(sessionId, testSecret))}`;
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(read.body.data, { user: 'sharon' });
      assert.equal(await client.type(redisKey), 'hash');
      await supertest(app).put('/keys/more').set('Cookie', cookie).send({ value: 1 }).expect(200);
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', cookie)).body.data, {
        user: 'sharon',
        more: 1,
      });
    });
  },
);
