import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import supertest from 'supertest';
import { RedisStore } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { startServerProcess } from '../helpers/processes';
import { redisUrl, storesUnderTest, testSecret } from '../helpers/stores';

const redisAvailable = storesUnderTest.some((store) => store.name === 'redis');

describe(
  'two app processes on one Redis',
  { skip: !redisAvailable && 'Redis does not answer on 127.0.0.1:6379' },
  () => {
    it('lose none of 50 concurrent keys of one session spread over both processes', async () => {
      const prefix = `rcs-test-processes-${process.pid}`;
      after(async () => {
        const cleaner = new RedisStore({ url: redisUrl, prefix });
        await cleaner.clear();
        await cleaner.disconnect();
      });
      const options = { secret: testSecret, driver: 'redis' as const, redis: { url: redisUrl, prefix } };
      const [first, second] = await Promise.all([startServerProcess(options), startServerProcess(options)]);
      const cookie = sessionCookieOf(await supertest(first).put('/keys/user').send({ value: 'Sharon' }))!;
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
    });
  },
);
