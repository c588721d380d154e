import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import expressSession from 'express-session';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { testSecret } from '../helpers/stores';

describe('an express-session store passed as `store` (the migration path)', () => {
  it('keeps the users that express-session logged in, and writes records express-session can read', async () => {
    const sharedStore = new expressSession.MemoryStore();
    const legacy = express();
    legacy.use(
      expressSession({
        name: 'sid',
        secret: testSecret,
        store: sharedStore,
        resave: false,
        saveUninitialized: false,
      }),
    );
    legacy.get('/login', (request, response) => {
      (request.session as unknown as Record<string, unknown>).user = { id: 7, name: 'Sharon' };
      response.send('ok');
    });
    legacy.get('/session', (request, response) => response.json(request.session));
    const cookie = sessionCookieOf(await supertest(legacy).get('/login'))!;

    const { app } = createTestApp({ store: sharedStore });
    const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
    assert.deepEqual(read.body.data, { user: { id: 7, name: 'Sharon' } });

    await supertest(app).put('/keys/theme').set('Cookie', cookie).send({ value: 'dark' }).expect(200);
    const readByLegacy = await supertest(legacy).get('/session').set('Cookie', cookie);
    assert.equal(readByLegacy.body.theme, 'dark');
    assert.deepEqual(readByLegacy.body.user, { id: 7, name: 'Sharon' });
    assert.equal(typeof readByLegacy.body.cookie, 'object');
  });

  it('stores a new session under its raw id, in express-session’s format', async () => {
    const sharedStore = new expressSession.MemoryStore();
    const { app } = createTestApp({ store: sharedStore });
    const response = await supertest(app).put('/keys/user').send({ value: 'Asif' });
    const stored = await new Promise<Record<string, unknown>>((resolve, reject) =>
      sharedStore.get(response.body.id, (error, session) =>
        error ? reject(error) : resolve(session as unknown as Record<string, unknown>),
      ),
    );
    assert.equal(stored.user, 'Asif');
    assert.equal(typeof stored.cookie, 'object');
  });
});
