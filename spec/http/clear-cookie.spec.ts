import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import type { SessionCookieOptions } from '../../src';
import { createTestApp, setCookieOf } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

interface ParsedSetCookie {
  pair: string;
  value: string;
  attributes: Map<string, string>;
}

/** The session cookie's Set-Cookie line of a response, its attributes by lower-case name. */
function sessionSetCookieOf(response: { headers: Record<string, unknown> }): ParsedSetCookie | undefined {
  const line = setCookieOf(response).find((header) => header.startsWith('sid='));
  if (line === undefined) return undefined;
  const [pair, ...parts] = line.split(';').map((part) => part.trim());
  const attributes = new Map(
    parts.map((part) => {
      const [name, ...rest] = part.split('=');
      return [name!.toLowerCase(), rest.join('=')] as [string, string];
    }),
  );
  return { pair: pair!, value: pair!.slice('sid='.length), attributes };
}

/** Whether a Set-Cookie tells the browser to drop the cookie now: an expiry in the past, or Max-Age=0. */
function expiresNow(cookie: ParsedSetCookie): boolean {
  const maxAge = cookie.attributes.get('max-age');
  if (maxAge !== undefined && Number(maxAge) <= 0) return true;
  const expires = cookie.attributes.get('expires');
  return expires !== undefined && Date.parse(expires) <= Date.now();
}

/**
 * An app under /app: /app/login signs in (and, with ?path=/app, sets the new session's cookie path), and
 * the session ends by `session.destroy()` or by `request.session = null` with unset: 'destroy'.
 */
function appUnderPrefix(options: Parameters<typeof createTestApp>[0]) {
  const { app } = createTestApp({ ...options, unset: 'destroy' });
  app.put('/app/login', (request: Request, response: Response) => {
    if (typeof request.query.path === 'string') request.session!.cookie.path = request.query.path;
    request.session!.userId = 'u1';
    response.send('signed in');
  });
  app.post('/app/destroy', (request: Request, response: Response, next: NextFunction) => {
    request.session!.destroy((error) => (error ? next(error) : response.send('destroyed')));
  });
  app.post('/app/unset', (request: Request, response: Response) => {
    (request as { session?: unknown }).session = null;
    response.send('unset');
  });
  return app;
}

/** Signs in, ends the session the given way, and returns the Set-Cookie that set and the one that cleared. */
async function setAndCleared(
  app: ReturnType<typeof appUnderPrefix>,
  ending: 'destroy' | 'unset',
  loginQuery = '',
): Promise<{ set: ParsedSetCookie; cleared: ParsedSetCookie | undefined }> {
  const login = await supertest(app).put(`/app/login${loginQuery}`).expect(200);
  const set = sessionSetCookieOf(login);
  assert.ok(set, 'the login sets the session cookie');
  const end = await supertest(app).post(`/app/${ending}`).set('Cookie', set.pair).expect(200);
  return { set, cleared: sessionSetCookieOf(end) };
}

function assertClears(set: ParsedSetCookie, cleared: ParsedSetCookie | undefined): void {
  assert.ok(cleared, 'the response that ends the session clears its cookie');
  assert.equal(cleared.value, '', 'the clearing cookie has no value');
  assert.ok(expiresNow(cleared), 'the clearing cookie expires at once');
  assert.equal(cleared.attributes.get('domain'), set.attributes.get('domain'), 'same Domain');
  assert.equal(cleared.attributes.get('path'), set.attributes.get('path'), 'same Path');
}

const cookieFunctions: Array<{ name: string; cookie: (request: IncomingMessage) => SessionCookieOptions }> = [
  { name: 'Domain', cookie: () => ({ domain: 'example.test' }) },
  { name: 'Path', cookie: () => ({ path: '/app' }) },
  { name: 'Domain and Path', cookie: () => ({ domain: 'example.test', path: '/app' }) },
];

for (const store of storesUnderTest) {
  describe(`the cookie that clears a session on the ${store.name} store`, () => {
    for (const { name, cookie } of cookieFunctions) {
      for (const ending of ['destroy', 'unset'] as const) {
        it(`has the ${name} the cookie option's function gave the session cookie (${ending})`, async () => {
          const app = appUnderPrefix({ ...store.options(), cookie });
          const { set, cleared } = await setAndCleared(app, ending);
          assertClears(set, cleared);
        });
      }
    }

    for (const ending of ['destroy', 'unset'] as const) {
      it(`has the Path the app gave session.cookie.path when it created the session (${ending})`, async () => {
        const app = appUnderPrefix(store.options());
        const { set, cleared } = await setAndCleared(app, ending, '?path=/app');
        assert.equal(set.attributes.get('path'), '/app', 'the session cookie was set for /app');
        assertClears(set, cleared);
      });
    }
  });
}
