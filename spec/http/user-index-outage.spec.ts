import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { createTestApp, listen, sessionCookieOf } from '../helpers/app';
import { SwitchableStore } from '../helpers/switchable-store';

/** An app with a user index over a store that can be switched off, and user u1 signed in on one device. */
async function signedInApp(options: Parameters<typeof createTestApp>[0] = {}) {
  const store = new SwitchableStore();
  const { app, handler } = createTestApp({ store, userKey: 'userId', ...options });
  // served as in production: the listening server keeps the process alive while a store call hangs
  await listen(app);
  await supertest(app).put('/keys/userId').send({ value: 'u1' }).expect(200);
  assert.equal((await handler.listUserSessions('u1')).length, 1);
  return { app, handler, store };
}

/** What each settled call came to, for a message that shows every one. */
function outcomes(settled: PromiseSettledResult<unknown>[]): string[] {
  return settled.map((result) =>
    result.status === 'rejected' ? 'rejected' : `resolved to ${JSON.stringify(result.value)}`,
  );
}

describe('listing and revoking a user’s sessions while the store is down', () => {
  it('rejects every one of two concurrent listUserSessions calls when the store fails', async () => {
    const { handler, store } = await signedInApp();
    store.mode = 'failing';
    const settled = await Promise.allSettled([
      handler.listUserSessions('u1'),
      handler.listUserSessions('u1'),
    ]);
    assert.deepEqual(outcomes(settled), ['rejected', 'rejected']);
  });

  it('rejects every one of two concurrent revokeUserSessions calls when the store fails', async () => {
    const { handler, store } = await signedInApp();
    store.mode = 'failing';
    const settled = await Promise.allSettled([
      handler.revokeUserSessions('u1'),
      handler.revokeUserSessions('u1'),
    ]);
    assert.deepEqual(outcomes(settled), ['rejected', 'rejected']);
  });

  it('rejects a revokeUserSessions and a listUserSessions made together when the store fails', async () => {
    const { handler, store } = await signedInApp();
    store.mode = 'failing';
    const settled = await Promise.allSettled([
      handler.revokeUserSessions('u1'),
      handler.listUserSessions('u1'),
    ]);
    assert.deepEqual(outcomes(settled), ['rejected', 'rejected']);
  });

  it('rejects every one of two concurrent listUserSessions calls within storeTimeout when the store hangs', async () => {
    const { handler, store } = await signedInApp({ storeTimeout: '300ms' });
    store.mode = 'hanging';
    const started = Date.now();
    const settled = await Promise.allSettled([
      handler.listUserSessions('u1'),
      handler.listUserSessions('u1'),
    ]);
    assert.deepEqual(outcomes(settled), ['rejected', 'rejected']);
    assert.ok(Date.now() - started < 1500, 'within the store timeout');
  });

  it('rejects every one of two concurrent revokeUserSessions calls within storeTimeout when the store hangs', async () => {
    const { handler, store } = await signedInApp({ storeTimeout: '300ms' });
    store.mode = 'hanging';
    const started = Date.now();
    const settled = await Promise.allSettled([
      handler.revokeUserSessions('u1'),
      handler.revokeUserSessions('u1'),
    ]);
    assert.deepEqual(outcomes(settled), ['rejected', 'rejected']);
    assert.ok(Date.now() - started < 1500, 'within the store timeout');
  });
});

/**
 * A SwitchableStore that can be told to go down right after its next store call that succeeds: the call
 * the save starts with goes through, the ones after it fail. Today's save of a login writes the session
 * (with its user id) first and updates the user index after it, so the session write succeeds and the index
 * update fails. Every method is wrapped generically (whatever its name), and called on the store itself.
 */
function storeThatFailsAfterNextCall() {
  const store = new SwitchableStore();
  let armed = false;
  const proxy = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (armed && result instanceof Promise) {
          result.then(
            () => {
              if (!armed) return;
              armed = false;
              target.mode = 'failing';
            },
            () => undefined,
          );
        }
        return result;
      };
    },
  });
  return { store, proxy, failAfterNextCall: () => (armed = true) };
}

describe('a login whose user index update fails', () => {
  it('answers 503, and a retry with the same cookie indexes the session, so revoke signs it out', async () => {
    const { store, proxy, failAfterNextCall } = storeThatFailsAfterNextCall();
    const { app, handler } = createTestApp({ store: proxy, userKey: 'userId' });
    app.post('/login', (request: Request, response: Response) => {
      // the session is loaded by now: from here, the first store call succeeds and the next ones fail
      if (request.query.outage === 'yes') failAfterNextCall();
      request.session!.userId = 'u1';
      response.send('signed in');
    });
    const visit = await supertest(app)
      .put('/keys/cart')
      .send({ value: ['book'] })
      .expect(200);
    const cookie = sessionCookieOf(visit)!;

    await supertest(app).post('/login?outage=yes').set('Cookie', cookie).expect(503);
    assert.equal(store.mode, 'failing', 'the store went down during the login');
    store.mode = 'up';
    const retry = await supertest(app).post('/login').set('Cookie', cookie).expect(200);
    const current = sessionCookieOf(retry) ?? cookie;
    assert.equal((await supertest(app).get('/session').set('Cookie', current)).body.data.userId, 'u1');

    assert.ok((await handler.revokeUserSessions('u1')) >= 1, 'revoke reaches the session');
    const after = await supertest(app).get('/session').set('Cookie', current).expect(200);
    assert.equal(after.body.data.userId, undefined, 'the revoked session is signed out');
  });
});
