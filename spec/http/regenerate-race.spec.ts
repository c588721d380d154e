import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

/** A promise with its resolve function, to hold a route until the test lets it go on. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * An app with a user index and a route that regenerates the session keeping its data (as passport's
 * keepSessionInfo does on login) once the test lets it: `reached` resolves when the request has its session
 * loaded and waits, `release` lets it regenerate and answer.
 */
function appWithHeldRegenerate(options: Parameters<typeof createTestApp>[0]) {
  const { app, handler } = createTestApp({ ...options, userKey: 'userId' });
  const reached = gate();
  const held = gate();
  app.post('/held-regenerate', async (request: Request, response: Response, next: NextFunction) => {
    reached.open();
    await held.promise;
    request.session!.regenerate({ keepData: true }, (error) =>
      error ? next(error) : response.send('regenerated'),
    );
  });
  return { app, handler, reached: reached.promise, release: held.open };
}

for (const store of storesUnderTest) {
  describe(`regenerate({ keepData: true }) racing a removal on the ${store.name} store`, () => {
    for (const removal of ['logout', 'revoke'] as const) {
      it(`does not bring the user back when a ${removal} ran while the request waited`, async () => {
        const { app, handler, reached, release } = appWithHeldRegenerate(store.options());
        const login = await supertest(app).put('/keys/userId').send({ value: 'u1' }).expect(200);
        const cookie = sessionCookieOf(login)!;

        const regenerating = supertest(app).post('/held-regenerate').set('Cookie', cookie).then();
        await reached;
        if (removal === 'revoke') assert.equal(await handler.revokeUserSessions('u1'), 1);
        else await supertest(app).post('/destroy').set('Cookie', cookie).expect(200);
        release();
        const answer = await regenerating;

        const newCookie = sessionCookieOf(answer);
        if (newCookie !== undefined) {
          const withNewCookie = await supertest(app).get('/session').set('Cookie', newCookie).expect(200);
          assert.equal(withNewCookie.body.data.userId, undefined, 'the new cookie is not signed in');
        }
        const withOldCookie = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
        assert.equal(withOldCookie.body.data.userId, undefined, 'the old cookie is not signed in');
        assert.deepEqual(await handler.listUserSessions('u1'), [], 'the user has no session left');
      });
    }
  });
}
