import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

/**
 * Routes that change the session after its save has started: a change before the headers leave starts the
 * save at writeHead, at the first write or at flushHeaders, or the app calls `session.save()` without
 * awaiting it; then the route changes the session again before it ends. express-session saves at `end()`
 * (and again after a `save()` when the data changed since), so every one of these changes is stored; the
 * client's next request must read them.
 */
const everyKey = { user: 'sharon', early: 'e', late: 'x' };

const lateRoutes: Array<{
  name: string;
  route: (request: Request, response: Response) => void | Promise<void>;
  stored: Record<string, unknown>;
}> = [
  {
    name: 'after writeHead',
    route: (request, response) => {
      request.session!.early = 'e';
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      request.session!.late = 'x';
      response.end();
    },
    stored: everyKey,
  },
  {
    name: 'after the first write',
    route: (request, response) => {
      request.session!.early = 'e';
      response.setHeader('Content-Type', 'text/plain');
      response.write('a');
      request.session!.late = 'x';
      response.end();
    },
    stored: everyKey,
  },
  {
    name: 'after flushHeaders',
    route: (request, response) => {
      request.session!.early = 'e';
      response.setHeader('Content-Type', 'text/plain');
      response.flushHeaders();
      request.session!.late = 'x';
      response.end();
    },
    stored: everyKey,
  },
  {
    name: 'after a save() that was not awaited, ending at once',
    route: (request, response) => {
      request.session!.early = 'e';
      void request.session!.save();
      request.session!.late = 'x';
      response.end();
    },
    stored: everyKey,
  },
  {
    name: 'after a save() that was not awaited, ending once it is done',
    route: async (request, response) => {
      request.session!.early = 'e';
      const saving = request.session!.save();
      request.session!.late = 'x';
      await saving;
      response.end();
    },
    stored: everyKey,
  },
  {
    name: 'to a key set before writeHead, which keeps the later value',
    route: (request, response) => {
      request.session!.late = 'before';
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      request.session!.late = 'x';
      response.end();
    },
    stored: { user: 'sharon', late: 'x' },
  },
];

function lateChangesApp(options: Parameters<typeof createTestApp>[0]) {
  const { app } = createTestApp(options);
  lateRoutes.forEach(({ route }, index) => app.get(`/late/${index}`, route));
  return app;
}

for (const store of storesUnderTest) {
  describe(`a change made after the save started, on the ${store.name} store`, () => {
    const app = lateChangesApp(store.options());
    lateRoutes.forEach(({ name, stored }, index) => {
      it(`is stored and read by the next request: ${name}`, async () => {
        const login = await supertest(app).put('/keys/user').send({ value: 'sharon' }).expect(200);
        const cookie = sessionCookieOf(login)!;
        await supertest(app).get(`/late/${index}`).set('Cookie', cookie).expect(200);
        const next = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
        assert.deepEqual(next.body.data, stored);
      });
    });
  });
}
