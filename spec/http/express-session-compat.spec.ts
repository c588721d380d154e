import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import cookieParser from 'cookie-parser';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { SessionConfigError, session } from '../../src';
import { signSessionId } from '../../src/cookie';
import { createTestApp, sessionCookieOf, setCookieOf } from '../helpers/app';
import { quietLogger, storesUnderTest, testSecret } from '../helpers/stores';

/** An app that counts visits in the session, behind whatever `before` puts in front of the session. */
function countingApp(options: Parameters<typeof session>[0], before: express.RequestHandler[] = []) {
  const app = express();
  for (const middleware of before) app.use(middleware);
  app.use(session({ secret: testSecret, logger: quietLogger, driver: 'memory', ...options }));
  app.get('/', (request: Request, response: Response) => {
    request.session!.count = ((request.session!.count as number | undefined) ?? 0) + 1;
    response.send(String(request.session!.count));
  });
  return app;
}

for (const store of storesUnderTest) {
  describe(`express-session options and inputs on the ${store.name} store`, () => {
    it('saveUninitialized: true stores a new session and sends its cookie even when the handler never reads it', async () => {
      const { app } = createTestApp({ ...store.options(), saveUninitialized: true });
      const response = await supertest(app).get('/untouched').expect(200);
      const cookie = sessionCookieOf(response);
      assert.ok(cookie, 'a cookie is sent');
      const next = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(setCookieOf(next), [], 'the stored session is found again');
    });
  });
}

describe('express-session inputs', () => {
  it('signs with a Buffer secret, and with an array of Buffers', async () => {
    for (const secret of [randomBytes(32), [randomBytes(32), randomBytes(32)]]) {
      const agent = supertest.agent(countingApp({ secret }));
      await agent.get('/').expect(200, '1');
      await agent.get('/').expect(200, '2');
    }
  });

  it('refuses an empty secret array and an unknown unset value, saying what it must be', () => {
    assert.throws(
      () => session({ secret: [] }),
      (error) => error instanceof SessionConfigError && /secret option array/.test(error.message),
    );
    assert.throws(
      () => session({ secret: testSecret, unset: 'bogus' as never }),
      /unset.*must be one of 'keep', 'destroy'/,
    );
  });

  it('takes the cookie name from the old key option', async () => {
    const response = await supertest(countingApp({ key: 'sessid' }))
      .get('/')
      .expect(200);
    assert.ok(sessionCookieOf(response, 'sessid'));
  });

  it('reads the session cookie from cookie-parser (req.signedCookies, then req.cookies) when the header no longer has it', async () => {
    const dropHeader: express.RequestHandler = (request, _response, next) => {
      request.headers.cookie = 'other=1';
      next();
    };
    for (const parser of [cookieParser(testSecret), cookieParser()]) {
      const app = countingApp({}, [parser, dropHeader]);
      const first = await supertest(app).get('/').expect(200, '1');
      await supertest(app).get('/').set('Cookie', sessionCookieOf(first)!).expect(200, '2');
      const forged = `sid=${encodeURIComponent(signSessionId('forged', 'another secret that is long enough!!'))}`;
      await supertest(app).get('/').set('Cookie', forged).expect(200, '1');
    }
  });

  it('leaves a session that another middleware put on the request alone', async () => {
    const app = countingApp({}, [
      (request, _response, next) => {
        (request as { session?: unknown }).session = { count: 41 };
        next();
      },
    ]);
    const response = await supertest(app).get('/').expect(200, '42');
    assert.deepEqual(setCookieOf(response), []);
  });
});
