import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import supertest from 'supertest';
import { RedisSessionStore } from '../../src';
import { createTestApp } from '../helpers/app';
import { redisAnswers, redisUrl } from '../helpers/stores';

describe(
  'the Redis driver with a client the app made',
  { skip: redisAnswers() ? false : 'Redis is not running' },
  () => {
    it('stores sessions through that client, and leaves it open when the session store disconnects', async () => {
      const client = createClient({ url: redisUrl });
      await client.connect();
      const prefix = `rcs-test-client-${process.pid}`;
      after(async () => {
        await new RedisSessionStore({ client, prefix }).clear();
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
