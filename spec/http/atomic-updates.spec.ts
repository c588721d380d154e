import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { startServerProcess } from '../helpers/processes';
import { sharedStoresUnderTest, storesUnderTest, testSecret } from '../helpers/stores';

type Target = Parameters<typeof supertest>[0];

const fifty = Array.from({ length: 50 }, (_, index) => index);

/** A stored session with `user` set; its cookie. */
async function signedIn(app: Target): Promise<string> {
  return sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'Sharon' }).expect(200))!;
}

async function dataOf(app: Target, cookie: string): Promise<Record<string, unknown>> {
  return (await supertest(app).get('/session').set('Cookie', cookie).expect(200)).body.data;
}

/** 50 concurrent requests, spread over the apps, each incrementing `visits`, pushing its number and setting a key of its own. */
async function fiftyIncrementsAndPushes(apps: Target[], cookie: string): Promise<void> {
  await Promise.all(
    fifty.map((index) =>
      supertest(apps[index % apps.length]!)
        .post(`/increment/visits?delay=${index % 7}`)
        .set('Cookie', cookie)
        .send({ set: { [`key${index}`]: index } })
        .expect(200),
    ),
  );
  await Promise.all(
    fifty.map((index) =>
      supertest(apps[index % apps.length]!)
        .post(`/append/seen?delay=${index % 5}`)
        .set('Cookie', cookie)
        .send({ value: { index } })
        .expect(200),
    ),
  );
}

/** What 50 increments and pushes must leave: every one of them, and every key set beside them. */
function assertNoneLost(data: Record<string, unknown>): void {
  assert.equal(data.visits, 50);
  const seen = (data.seen as Array<{ index: number }>).map(({ index }) => index).sort((a, b) => a - b);
  assert.deepEqual(seen, fifty);
  assert.equal(Object.keys(data).filter((key) => key.startsWith('key')).length, 50);
  assert.equal(data.user, 'Sharon');
}

/** Two app processes on one store, and a session stored by the first that the second has read. */
async function twoProcessesSignedIn(
  storeOptions: SessionOptions,
): Promise<{ apps: string[]; cookie: string }> {
  const options = { ...storeOptions, secret: testSecret };
  const apps = await Promise.all([startServerProcess(options), startServerProcess(options)]);
  const cookie = await signedIn(apps[0]!);
  assert.deepEqual(await dataOf(apps[1]!, cookie), { user: 'Sharon' });
  return { apps, cookie };
}

for (const store of sharedStoresUnderTest) {
  describe(`session.increment and session.push from two app processes sharing one ${store.name} store`, () => {
    it('add up 50 of 50 concurrent increments, keep 50 of 50 pushes and every key written beside them', async () => {
      const { apps, cookie } = await twoProcessesSignedIn(store.options());
      await fiftyIncrementsAndPushes(apps, cookie);
      assertNoneLost(await dataOf(apps[1]!, cookie));
    });

    it('let a plain write of the key after an increment in the same request win, and count on from it', async () => {
      const { apps, cookie } = await twoProcessesSignedIn(store.options());
      await Promise.all(
        fifty.slice(0, 10).map((index) =>
          supertest(apps[index % 2]!)
            .post('/increment/visits')
            .set('Cookie', cookie)
            .expect(200),
        ),
      );
      const reset = await supertest(apps[1]!)
        .post('/increment/visits')
        .set('Cookie', cookie)
        .send({ set: { visits: 100 } })
        .expect(200);
      assert.equal(reset.body.value, 11, 'the request read its own increment first');
      assert.equal((await dataOf(apps[0]!, cookie)).visits, 100);
      await supertest(apps[0]!)
        .post('/increment/visits')
        .send({ by: -0.5 })
        .set('Cookie', cookie)
        .expect(200);
      assert.equal((await dataOf(apps[1]!, cookie)).visits, 99.5);
    });
  });
}

for (const store of storesUnderTest) {
  describe(`session.increment and session.push in one app on the ${store.name} store`, () => {
    it('add up 50 concurrent increments and keep 50 concurrent pushes, with the keys written beside them', async () => {
      const { app } = createTestApp(store.options());
      const cookie = await signedIn(app);
      await fiftyIncrementsAndPushes([app], cookie);
      assertNoneLost(await dataOf(app, cookie));
    });

    it('start a new session with the first increment, and read back what the request counted', async () => {
      const { app } = createTestApp(store.options());
      const first = await supertest(app).post('/increment/visits').send({ by: 2 }).expect(200);
      assert.equal(first.body.value, 2);
      const cookie = sessionCookieOf(first)!;
      const second = await supertest(app).post('/increment/visits').set('Cookie', cookie).expect(200);
      assert.equal(second.body.value, 3);
      assert.deepEqual(await dataOf(app, cookie), { visits: 3 });
    });

    it('count an increment once when an un-awaited save() and the end of the request both save', async () => {
      const { app } = createTestApp(store.options());
      const cookie = await signedIn(app);
      await Promise.all(
        fifty.slice(0, 10).map(() =>
          supertest(app)
            .post('/increment/visits?save=early')
            .set('Cookie', cookie)
            .send({ set: { late: true } })
            .expect(200),
        ),
      );
      assert.deepEqual(await dataOf(app, cookie), { user: 'Sharon', visits: 10, late: true });
    });

    it('refuse to increment a key that holds no number, and to push onto one that holds no array', async () => {
      const { app } = createTestApp(store.options());
      const cookie = await signedIn(app);
      const increment = await supertest(app).post('/increment/user').set('Cookie', cookie).expect(500);
      assert.match(increment.body.message, /Cannot increment session key "user": it holds a string/);
      const push = await supertest(app).post('/append/user').set('Cookie', cookie).send({ value: 1 });
      assert.match(push.body.message, /Cannot push to session key "user": it is not an array/);
      assert.deepEqual(await dataOf(app, cookie), { user: 'Sharon' });
    });
  });
}

describe('session.increment and session.push with encryption at rest', () => {
  const encryption = { keys: ['a passphrase of at least thirty-two characters'] };

  for (const store of storesUnderTest.filter(({ name }) => name === 'file' || name === 'memory')) {
    it(`add up 50 concurrent increments and keep 50 pushes within one app on the ${store.name} store`, async () => {
      const { app } = createTestApp({ ...store.options(), encryption });
      const cookie = await signedIn(app);
      await fiftyIncrementsAndPushes([app], cookie);
      assertNoneLost(await dataOf(app, cookie));
    });
  }
});
