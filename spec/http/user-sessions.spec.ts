import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import supertest from 'supertest';
import { createSessionMiddleware, session } from '../../src';
import { storeKeyOf } from '../../src/session/ids';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { startServerProcess } from '../helpers/processes';
import { quietLogger, sharedStoresUnderTest, storesUnderTest, testSecret } from '../helpers/stores';

for (const store of storesUnderTest) {
  describe(`a user's sessions on the ${store.name} store`, () => {
    it('are listed by hash, and revoked all but the current device, which stays logged in', async () => {
      const { app, handler } = createTestApp({ ...store.options(), userKey: 'userId' });
      const laptop = supertest.agent(app);
      const phone = supertest.agent(app);
      const someoneElse = supertest.agent(app);
      const laptopId = (await laptop.put('/keys/userId').set('User-Agent', 'laptop').send({ value: 42 })).body
        .id;
      const phoneId = (await phone.put('/keys/userId').set('User-Agent', 'phone').send({ value: 42 })).body
        .id;
      await someoneElse.put('/keys/userId').send({ value: 7 });

      const listed = await handler.listUserSessions(42);
      assert.deepEqual(
        listed.map((entry) => entry.id).sort(),
        [storeKeyOf(laptopId), storeKeyOf(phoneId)].sort(),
      );
      assert.deepEqual(listed.map((entry) => entry.userAgent).sort(), ['laptop', 'phone']);
      for (const entry of listed) {
        assert.ok(entry.createdAt <= entry.lastSeenAt && entry.lastSeenAt <= Date.now());
        assert.ok(![laptopId, phoneId].includes(entry.id), 'never the cookie value');
      }

      assert.equal(await handler.revokeUserSessions(42, { except: laptopId }), 1);
      assert.deepEqual((await phone.get('/session')).body.data, {}, 'the revoked device is logged out');
      assert.deepEqual((await laptop.get('/session')).body.data, { userId: 42 });
      assert.deepEqual((await someoneElse.get('/session')).body.data, { userId: 7 });
      assert.equal((await handler.listUserSessions(42)).length, 1);
    });

    it('drop out of the index on logout and destroy, and follow a nested path such as passport.user', async () => {
      const { app, handler } = createTestApp({ ...store.options(), userKey: 'passport.user' });
      const first = supertest.agent(app);
      const second = supertest.agent(app);
      await first.put('/keys/passport').send({ value: { user: 'sharon' } });
      await second.put('/keys/passport').send({ value: { user: 'sharon' } });
      assert.equal((await handler.listUserSessions('sharon')).length, 2);
      await first.delete('/keys/passport');
      await second.post('/destroy');
      assert.deepEqual(await handler.listUserSessions('sharon'), []);
      assert.equal(await handler.revokeUserSessions('sharon'), 0);
    });
  });
}

for (const store of storesUnderTest) {
  describe(`the user index on the ${store.name} store`, () => {
    it('keeps at most 256 characters of a User-Agent', async () => {
      const { app, handler } = createTestApp({ ...store.options(), userKey: 'userId' });
      await supertest(app).put('/keys/userId').set('User-Agent', 'x'.repeat(15_000)).send({ value: 9 });
      const [listed] = await handler.listUserSessions(9);
      assert.equal(listed?.userAgent?.length, 256);
    });

    it('keeps at most 100 sessions a user by default (maxSessionsPerUser): the oldest is signed out for the newest', async () => {
      const maxSessionsPerUser = 100;
      const { app, handler } = createTestApp({ ...store.options(), userKey: 'userId' });
      const login = () => supertest(app).put('/keys/userId').send({ value: 'busy' }).expect(200);
      const first = sessionCookieOf(await login())!;
      for (let count = 1; count < maxSessionsPerUser; count += 1) await login();
      assert.equal((await handler.listUserSessions('busy')).length, maxSessionsPerUser);
      const newest = sessionCookieOf(await login())!;
      assert.equal((await handler.listUserSessions('busy')).length, maxSessionsPerUser);
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', first)).body.data, {});
      assert.equal((await supertest(app).get('/session').set('Cookie', newest)).body.data.userId, 'busy');
    });

    it('prunes entries of sessions that are gone when it is written, once older than a save can take', async () => {
      // an entry is written before the save that gives its session the user: kept 2 × storeTimeout + 1 s
      const { app, handler } = createTestApp({
        ...store.options(),
        userKey: 'userId',
        storeTimeout: '200ms',
      });
      const gone = await supertest(app).put('/keys/userId').send({ value: 'p' });
      await handler.store.delete(storeKeyOf(gone.body.id as string));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const kept = await supertest(app).put('/keys/userId').send({ value: 'p' });
      const indexKey = `user-sessions:${createHash('sha256').update('p').digest('base64url')}`;
      const index = (await handler.store.get(indexKey)) as { sessions: Record<string, unknown> };
      assert.deepEqual(Object.keys(index.sessions), [storeKeyOf(kept.body.id as string)]);
    });
  });
}

describe('revoking a user’s sessions from another process', () => {
  for (const store of sharedStoresUnderTest) {
    it(`logs the user out of the app process on the next request (${store.name})`, async () => {
      const options = { ...store.options(), secret: testSecret, userKey: 'userId' };
      const server = await startServerProcess(options);
      const device = supertest.agent(server);
      await device.put('/keys/userId').send({ value: 'u1' }).expect(200);
      const admin = session({ ...options, logger: quietLogger });
      after(() => admin.store.disconnect());
      assert.equal(await admin.revokeUserSessions('u1'), 1);
      assert.deepEqual((await device.get('/session')).body.data, {});
    });
  }
});

describe('userKey', () => {
  it('is refused with an express-session store and when the path is malformed, and required by the methods', async () => {
    const expressStore = { get: () => undefined, set: () => undefined, destroy: () => undefined };
    assert.throws(
      () => session({ secret: testSecret, store: expressStore, userKey: 'userId' }),
      /needs a Keyv store/,
    );
    assert.throws(() => session({ secret: testSecret, driver: 'memory', userKey: 'user..id' }), /dot path/);
    const withoutUserKey = session({ secret: testSecret, driver: 'memory' });
    await assert.rejects(withoutUserKey.listUserSessions(1), /Set option userKey/);
    const SessionMiddleware = createSessionMiddleware({
      secret: testSecret,
      driver: 'memory',
      userKey: 'userId',
    });
    assert.deepEqual(await SessionMiddleware.listUserSessions(1), []);
    assert.equal(await SessionMiddleware.revokeUserSessions(1), 0);
  });
});
