import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import type { SessionOptions } from '../../src';
import { storeKeyOf } from '../../src/session/ids';
import { createTestApp, listen, sessionCookieOf } from '../helpers/app';
import { startDelayProxy } from '../helpers/delay-proxy';
import { sessionIdOfCookie } from '../helpers/session-ids';
import { redisAnswers, redisUrl } from '../helpers/stores';

const prefix = `rcs-test-foreign-${process.pid}`;
const redisPort = Number(new URL(redisUrl).port);

/** A raw Redis client of the test's own, to lay values at session keys; removes the prefix's keys afterwards. */
async function rawRedis() {
  const client = createClient({ url: redisUrl });
  await client.connect();
  after(async () => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
    client.destroy();
  });
  return client;
}

/** The test app on the redis driver under this file's prefix, listening; `port` to reach Redis another way. */
async function startApp(port = redisPort): Promise<string> {
  const options: SessionOptions = {
    driver: 'redis',
    redis: { url: `redis://127.0.0.1:${port}`, prefix },
  };
  const { app, handler } = createTestApp(options);
  after(() => handler.store.disconnect());
  const server = await listen(app);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> };
  cookie: string | undefined;
}

async function request(url: string, method: string, path: string, cookie?: string, value?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: value === undefined ? undefined : JSON.stringify({ value }),
  });
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    // a plain-text answer ('destroyed')
  }
  const cookieOf = sessionCookieOf({ headers: { 'set-cookie': response.headers.getSetCookie() } });
  return { status: response.status, body, cookie: cookieOf } satisfies Answer;
}

/** A session signed in as Sharon through `url`: its cookie pair and its Redis key. */
async function signedInSession(url: string): Promise<{ cookie: string; redisKey: string }> {
  const answer = await request(url, 'PUT', '/keys/user', undefined, 'Sharon');
  assert.equal(answer.status, 200);
  const cookie = answer.cookie!;
  return { cookie, redisKey: `${prefix}::${storeKeyOf(sessionIdOfCookie(cookie))}` };
}

/** A session of an earlier version: one JSON string `{ value, expires }`, signed in as `user`. */
function oneStringSession(user: string): string {
  const now = Date.now();
  return JSON.stringify({
    value: { data: { user }, meta: { createdAt: now, lastSeenAt: now } },
    expires: now + 3_600_000,
  });
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe(
  'the redis driver when a session’s key holds a string (the one-string format of an earlier version)',
  { skip: redisAnswers() ? false : 'Redis does not answer on 127.0.0.1:6379' },
  () => {
    it('answers 10 parallel requests with a fresh session: none 503, none signed in, the string never rewritten', async () => {
      const redis = await rawRedis();
      // five processes, one connection each, their requests 1 ms apart: each one's read lands among the others'
      const apps = await Promise.all(Array.from({ length: 5 }, () => startApp()));
      const { cookie, redisKey } = await signedInSession(apps[0]!);
      for (const app of apps) assert.equal((await request(app, 'GET', '/session', cookie)).status, 200);
      await redis.set(redisKey, oneStringSession('Former'), { PX: 3_600_000 });

      const answers = await Promise.all(
        Array.from({ length: 10 }, async (_, index) => {
          await pause(index);
          return request(apps[index % apps.length]!, 'GET', '/session', cookie);
        }),
      );
      assert.deepEqual(
        answers.map((answer) => answer.status),
        Array.from({ length: 10 }, () => 200),
        'no request answers 503',
      );
      for (const answer of answers) assert.deepEqual(answer.body.data, {}, 'a fresh session, not signed in');
      assert.notEqual(await redis.type(redisKey), 'hash', 'the string is not rewritten as a session');
    });

    it('stays logged out when a slower process reads the string while the logout runs', async () => {
      const redis = await rawRedis();
      const fast = await startApp();
      // a process whose Redis answers take 2 × 40 ms: it reads the string before the logout and, today,
      // writes it back as a session after the logout removed it
      const slow = await startApp(await startDelayProxy(redisPort, 40));
      const { cookie, redisKey } = await signedInSession(fast);
      assert.equal(
        (await request(slow, 'GET', '/session', cookie)).status,
        200,
        'the slow process is connected',
      );
      await redis.set(redisKey, oneStringSession('Former'), { PX: 3_600_000 });

      const slowRead = request(slow, 'GET', '/session', cookie);
      await pause(140);
      const logout = await request(fast, 'POST', '/destroy', cookie);
      assert.equal(logout.status, 200, 'the logout is answered');
      assert.equal((await slowRead).status, 200, 'the slow read is answered');

      const afterwards = await request(fast, 'GET', '/session', cookie);
      assert.equal(afterwards.status, 200);
      assert.deepEqual(afterwards.body.data, {}, 'the session does not come back after the logout');
      assert.notEqual(await redis.type(redisKey), 'hash', 'the string is not rewritten as a session');
    });
  },
);

describe(
  'the redis driver when a session’s key holds a list, a set or a hash of foreign fields',
  { skip: redisAnswers() ? false : 'Redis does not answer on 127.0.0.1:6379' },
  () => {
    const foreignValues: Array<
      [string, (redis: Awaited<ReturnType<typeof rawRedis>>, key: string) => Promise<unknown>]
    > = [
      ['a list', (redis, key) => redis.rPush(key, ['one', 'two'])],
      ['a set', (redis, key) => redis.sAdd(key, ['one', 'two'])],
      ['a hash of foreign fields', (redis, key) => redis.hSet(key, { name: 'Sharon', visits: '3' })],
    ];
    for (const [name, lay] of foreignValues) {
      it(`answers with a fresh session (200, not 503) when the key holds ${name}, request after request`, async () => {
        const redis = await rawRedis();
        const app = await startApp();
        const { cookie, redisKey } = await signedInSession(app);
        await redis.del(redisKey);
        await lay(redis, redisKey);

        for (let attempt = 0; attempt < 3; attempt += 1) {
          const read = await request(app, 'GET', '/session', cookie);
          assert.equal(read.status, 200, `read ${attempt + 1} is answered`);
          assert.deepEqual(read.body.data, {}, `read ${attempt + 1} has a fresh session`);
        }
        const write = await request(app, 'PUT', '/keys/user', cookie, 'Asif');
        assert.equal(write.status, 200, 'a write is answered');
        const next = await request(app, 'GET', '/session', write.cookie ?? cookie);
        assert.equal(next.status, 200);
        assert.deepEqual(next.body.data, { user: 'Asif' }, 'the fresh session keeps what it was given');
      });
    }
  },
);
