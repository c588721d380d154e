import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { MemoryStore, session } from '../../src';
import type { ApplyResult, SessionChange } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { quietLogger, testSecret } from '../helpers/stores';

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A store whose saves take 100 ms, as over a network: a login's save is then under way for a while. */
class SlowSaves extends MemoryStore {
  override async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    await pause(100);
    return super.apply(key, change, expiresAt);
  }

  override applyNow(): undefined {
    return undefined;
  }
}

/** A store that applies at once but answers 50 ms later, as a store on a pool of connections may. */
class LateAnswers extends MemoryStore {
  override async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    const applied = await super.apply(key, change, expiresAt);
    await pause(50);
    return applied;
  }

  override applyNow(): undefined {
    return undefined;
  }
}

function appOn(store: MemoryStore) {
  const handler = session({ secret: testSecret, logger: quietLogger, store, userKey: 'userId' });
  const app = express();
  app.use(handler);
  app.post('/visit', (request: Request, response: Response) => {
    request.session.visits = 1;
    response.json({});
  });
  app.post('/login/:user', (request: Request, response: Response) => {
    request.session.userId = request.params.user;
    response.json({});
  });
  app.get('/me', (request: Request, response: Response) => {
    response.json({ userId: request.session.userId ?? null });
  });
  return { app, handler };
}

describe('the user index while a login is being saved', () => {
  it('keeps the entry of a login whose save is under way when the user’s sessions are listed meanwhile, so a later revoke reaches it', async () => {
    const { app, handler } = appOn(new SlowSaves());
    const cookie = sessionCookieOf(await supertest(app).post('/visit').expect(200))!;
    const login = supertest(app).post('/login/bob').set('Cookie', cookie).then();
    await pause(50);
    assert.deepEqual(await handler.listUserSessions('bob'), [], 'not signed in yet');
    await login;
    assert.equal((await supertest(app).get('/me').set('Cookie', cookie)).body.userId, 'bob');
    assert.equal(await handler.revokeUserSessions('bob'), 1);
    assert.equal((await supertest(app).get('/me').set('Cookie', cookie)).body.userId, null);
  });

  it('keeps both entries when two devices of one user sign in at once', async () => {
    const { app, handler } = appOn(new SlowSaves());
    const cookies = [
      sessionCookieOf(await supertest(app).post('/visit').expect(200))!,
      sessionCookieOf(await supertest(app).post('/visit').expect(200))!,
    ];
    await Promise.all(
      cookies.map((cookie) => supertest(app).post('/login/alice').set('Cookie', cookie).then()),
    );
    assert.equal(await handler.revokeUserSessions('alice'), 2);
    for (const cookie of cookies) {
      assert.equal((await supertest(app).get('/me').set('Cookie', cookie)).body.userId, null);
    }
  });
});

describe('a save still answering when the session is regenerated', () => {
  it('does not mark the new session as stored: what the request puts in it is saved', async () => {
    const handler = session({ secret: testSecret, logger: quietLogger, store: new LateAnswers() });
    const app = express();
    app.use(handler);
    app.post('/login', async (request: Request, response: Response) => {
      request.session.lastPage = '/login';
      void request.session.save();
      await pause(5);
      const fresh = await request.session.regenerate();
      await pause(100);
      fresh.userId = 42;
      response.json({});
    });
    app.get('/me', (request: Request, response: Response) => {
      response.json({ userId: request.session.userId ?? null });
    });
    const cookie = sessionCookieOf(await supertest(app).post('/login').expect(200))!;
    assert.equal((await supertest(app).get('/me').set('Cookie', cookie)).body.userId, 42);
  });
});
