import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionEvent } from '../../src';
import { SessionConfigError, session } from '../../src';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { storesUnderTest, testSecret } from '../helpers/stores';

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

for (const store of storesUnderTest) {
  describe(`maxSessionsPerUser on the ${store.name} store`, () => {
    it("signs out the user's least recently used session for a sign-in beyond the cap (event revoked, reason limit)", async () => {
      const { app, handler } = createTestApp({ ...store.options(), userKey: 'user', maxSessionsPerUser: 2 });
      const revoked: SessionEvent[] = [];
      handler.events.on('revoked', (event: SessionEvent) => revoked.push(event));
      const signIn = async () =>
        sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'ann' }).expect(200))!;
      const phone = await signIn();
      await pause(5);
      const laptop = await signIn();
      await pause(5);
      // the phone is used again: the laptop is now the least recently used
      await supertest(app)
        .put('/keys/cart')
        .set('Cookie', phone)
        .send({ value: [1] })
        .expect(200);
      await pause(5);
      const tablet = await signIn();
      const userOf = async (cookie: string) =>
        (await supertest(app).get('/session').set('Cookie', cookie)).body.data.user;
      assert.deepEqual(
        [await userOf(phone), await userOf(laptop), await userOf(tablet)],
        ['ann', undefined, 'ann'],
      );
      assert.equal((await handler.listUserSessions('ann')).length, 2);
      assert.deepEqual(
        revoked.map(({ user, reason }) => ({ user, reason })),
        [{ user: 'ann', reason: 'limit' }],
      );
    });

    it("refuses a sign-in beyond the cap with onSessionLimit: 'refuse' (403), and keeps the others", async () => {
      const { app, handler } = createTestApp({
        ...store.options(),
        userKey: 'user',
        maxSessionsPerUser: 2,
        onSessionLimit: 'refuse',
      });
      const first = sessionCookieOf(
        await supertest(app).put('/keys/user').send({ value: 'bob' }).expect(200),
      )!;
      await supertest(app).put('/keys/user').send({ value: 'bob' }).expect(200);
      const refused = await supertest(app).put('/keys/user').send({ value: 'bob' }).expect(403);
      assert.equal(refused.body.name, 'SessionLimitError');
      assert.match(refused.body.message, /maxSessionsPerUser/);
      assert.equal(sessionCookieOf(refused), undefined);
      assert.equal((await handler.listUserSessions('bob')).length, 2);
      assert.equal((await supertest(app).get('/session').set('Cookie', first)).body.data.user, 'bob');
      // the same device signing in again is no new session
      await supertest(app).put('/keys/user').set('Cookie', first).send({ value: 'bob' }).expect(200);
    });
  });
}

describe('maxSessionsPerUser options', () => {
  it('needs userKey, a positive whole number and a known onSessionLimit', () => {
    assert.throws(() => session({ secret: testSecret, maxSessionsPerUser: 3 }), SessionConfigError);
    assert.throws(
      () => session({ secret: testSecret, userKey: 'u', maxSessionsPerUser: 0 }),
      /positive whole/,
    );
    assert.throws(
      () => session({ secret: testSecret, userKey: 'u', onSessionLimit: 'kick' as 'refuse' }),
      /onSessionLimit/,
    );
  });
});
