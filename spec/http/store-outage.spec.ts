import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf, setCookieOf } from '../helpers/app';
import { SwitchableStore } from '../helpers/switchable-store';
import { testSecret } from '../helpers/stores';
import { signSessionId } from '../../src/session/cookie';

async function loggedInApp(options: Parameters<typeof createTestApp>[0] = {}) {
  const store = new SwitchableStore();
  const { app } = createTestApp({ store, ...options });
  app.use(
    (
      error: { status?: number; message: string },
      _request: Request,
      response: Response,
      _next: NextFunction,
    ) => {
      response.status(error.status ?? 500).json({ message: error.message });
    },
  );
  const cookie = sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'Sharon' }))!;
  return { app, store, cookie };
}

describe('when the store is down', () => {
  it('answers 503 instead of treating the user as logged out; the detail goes to the logger, not the client', async () => {
    const logged: unknown[] = [];
    const logger = {
      warn: () => undefined,
      error: (_message: string, error?: unknown) => logged.push(error),
    };
    const { app, store, cookie } = await loggedInApp({ logger });
    store.mode = 'failing';
    const response = await supertest(app).get('/session').set('Cookie', cookie).expect(503);
    assert.equal(response.body.message, 'session store unavailable');
    assert.doesNotMatch(response.text, /SwitchableStore|connection refused/);
    assert.deepEqual(setCookieOf(response), []);
    const [error] = logged as Array<{ storeName: string; cause: Error }>;
    assert.equal(error?.storeName, 'SwitchableStore');
    assert.equal(error?.cause.message, 'connection refused');
  });

  it("does not show an express-session store's error, which can hold the raw session id, to the client", async () => {
    const secretId = 'the-raw-session-id-0123456789';
    const failing = {
      get: (sid: string, done: (error: Error) => void) =>
        done(new Error(`EACCES: open '/srv/sessions/${sid}.json'`)),
      set: (_sid: string, _data: unknown, done: () => void) => done(),
      destroy: (_sid: string, done: () => void) => done(),
    };
    const { app } = createTestApp({ store: failing, genid: () => secretId });
    const cookie = `sid=${encodeURIComponent(signSessionId(secretId, testSecret))}`;
    const response = await supertest(app).get('/session').set('Cookie', cookie).expect(503);
    assert.doesNotMatch(response.text, /the-raw-session-id|srv|EACCES/);
  });

  it('does not affect a request without a session cookie that does not write to the session', async () => {
    const { app, store } = await loggedInApp();
    store.mode = 'failing';
    await supertest(app).get('/untouched').expect(200);
  });

  it('answers 503 when a save fails, and the stored session survives', async () => {
    const { app, store, cookie } = await loggedInApp();
    store.mode = 'failing';
    const response = await supertest(app).put('/keys/other').set('Cookie', cookie).send({ value: 1 });
    assert.equal(response.status, 503);
    store.mode = 'up';
    const read = await supertest(app).get('/session').set('Cookie', cookie);
    assert.deepEqual(read.body.data, { user: 'Sharon' });
  });

  it('answers 503 within the store timeout when the store hangs, and recovers when it is back', async () => {
    const { app, store, cookie } = await loggedInApp({ storeTimeout: '300ms' });
    store.mode = 'hanging';
    const started = Date.now();
    await supertest(app).get('/session').set('Cookie', cookie).expect(503);
    assert.ok(Date.now() - started < 1500);
    store.mode = 'up';
    const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
    assert.deepEqual(read.body.data, { user: 'Sharon' });
  });

  it("serves an unsaved empty session with onStoreError: 'anonymous'", async () => {
    const { app, store, cookie } = await loggedInApp({ onStoreError: 'anonymous' });
    store.mode = 'failing';
    const response = await supertest(app)
      .put('/keys/other')
      .set('Cookie', cookie)
      .send({ value: 1 })
      .expect(200);
    assert.deepEqual(setCookieOf(response), []);
    store.mode = 'up';
    const read = await supertest(app).get('/session').set('Cookie', cookie);
    assert.deepEqual(read.body.data, { user: 'Sharon' });
  });
});
