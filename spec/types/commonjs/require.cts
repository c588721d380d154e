/**
 * A CommonJS app moved from express-session: `import session = require(...)` (what `const session =
 * require(...)` is in TypeScript) resolves through the package's own "exports" (its "require" condition), as
 * an installed copy would, and is callable with the rest of the API on it, types included.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the CommonJS form under test */
import session = require('routing-controllers-session');
import express = require('express');

declare module 'routing-controllers-session' {
  interface SessionData {
    cart?: string[];
  }
}

const app = express();
const handler: session.SessionHandler = session({ secret: 'a secret of the type test, long enough' });
app.use(handler);
app.use(session.session({ store: new session.MemoryStore() }));
app.use(session.createSessionMiddleware);

const options: session.SessionOptions = session.defineSessionConfig({ driver: 'memory', idleTimeout: '2h' });
const store: session.MemoryStore = new session.MemoryStore();
const error: session.SessionError = new session.SessionConfigError('typed as a class of the module');
const keyv = session.createSessionStore({ driver: 'memory' });
const cookie: session.SessionCookieOptions = { sameSite: 'lax' };
const data: session.SessionData = { cart: ['apple'] };
export { options, store, error, keyv, cookie, data };

// The app's SessionData, declared through this module, types request.session.
app.get('/cart', (request, response) => {
  const cart: string[] = request.session.cart ?? [];
  // @ts-expect-error cart holds strings
  request.session.cart = [1];
  response.json(cart);
});

// @ts-expect-error the options are an object
session('secret');
// @ts-expect-error a type only, not a value, as from the ES module entry
export const api = session.SessionStoreApi;
