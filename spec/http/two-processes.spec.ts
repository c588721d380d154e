import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { session } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { startServerProcess } from '../helpers/processes';
import { redisToolsInstalled, startRedisCluster } from '../helpers/redis-server';
import { quietLogger, sharedStoresUnderTest, testSecret } from '../helpers/stores';

/** Two app processes on `options`: each sees the other's writes, and 50 concurrent keys spread over both all stay. */
async function fiftyKeysOverTwoProcesses(storeOptions: SessionOptions): Promise<void> {
  const options = { ...storeOptions, secret: testSecret };
  const [first, second] = await Promise.all([startServerProcess(options), startServerProcess(options)]);
  const cookie = sessionCookieOf(await supertest(first).put('/keys/user').send({ value: 'Sharon' }))!;
  const readElsewhere = await supertest(second).get('/session').set('Cookie', cookie);
  assert.deepEqual(readElsewhere.body.data, { user: 'Sharon' });

  await Promise.all(
    Array.from({ length: 50 }, (_, index) =>
      supertest(index % 2 ? first : second)
        .put(`/keys/key${index}?delay=${index % 7}`)
        .set('Cookie', cookie)
        .send({ value: index })
        .expect(200),
    ),
  );
  const data = (await supertest(second).get('/session').set('Cookie', cookie)).body.data;
  assert.equal(Object.keys(data).filter((key) => key.startsWith('key')).length, 50);
  assert.equal(data.user, 'Sharon');
}

for (const store of sharedStoresUnderTest) {
  describe(`two app processes sharing one ${store.name} store`, () => {
    it('see each other’s writes and lose none of 50 concurrent keys spread over both', async () => {
      await fiftyKeysOverTwoProcesses(store.options());
    });
  });
}

describe(
  'two app processes on a Redis Cluster of three masters',
  {
    skip: redisToolsInstalled() ? false : 'redis-server and redis-cli are not installed',
  },
  () => {
    it('keep all 50 of 50 concurrent disjoint writes, and a revoke from a third process reaches them', async () => {
      const cluster = await startRedisCluster();
      const options: SessionOptions = {
        driver: 'redis',
        redis: { cluster, prefix: 'cluster' },
        userKey: 'user',
      };
      await fiftyKeysOverTwoProcesses(options);

      const app = await startServerProcess({ ...options, secret: testSecret });
      const device = supertest.agent(app);
      await device.put('/keys/user').send({ value: 'Asif' }).expect(200);
      const admin = session({ ...options, secret: testSecret, logger: quietLogger });
      after(() => admin.store.disconnect());
      assert.equal((await admin.listUserSessions('Asif')).length, 1);
      assert.equal(await admin.revokeUserSessions('Asif'), 1);
      assert.deepEqual((await device.get('/session')).body.data, {}, 'signed out on the next request');
    });
  },
);
