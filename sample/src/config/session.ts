import { defineSessionConfig } from 'routing-controllers-session';

/** The session configuration of the sample app; copy it into your own `src/config/session.ts`. */
export const sessionConfig = defineSessionConfig({
  // Where sessions live: 'file' (the default, one file per session), 'memory' (one process, lost on
  // restart) or 'redis' (many processes). Any Keyv store or express-session store also works: `store: ...`.
  driver: 'file',
  file: { directory: process.env.SESSION_DIRECTORY ?? 'storage/sessions' },

  // Signs the session cookie. Required in production (32+ characters); an array rotates secrets:
  // the first signs, all are accepted. Without one, development uses a random secret and warns.
  secret: process.env.SESSION_SECRET,

  // The cookie's name, as the browser sees it.
  name: 'sid',
  // Clients without cookies (mobile apps, API clients) send the signed session id in this header instead;
  // it comes back in the same header when a session is created or regenerated. Browsers keep the cookie.
  header: 'X-Session-Id',

  // Cookie attributes. `maxAge` is in milliseconds; leave it out for a cookie that ends with the browser.
  cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/' },

  // A session unused for this long expires ('90s', '30m', '2h', '7d', or a number of seconds).
  idleTimeout: '2h',
  // A session expires this long after it was created, however active (false for never).
  absoluteTimeout: '7d',

  // Re-send the cookie on every response (restarts cookie.maxAge).
  rolling: false,
  // Store a session (and send a cookie) even when nothing was put in it.
  saveUninitialized: false,
  // Rewrite unchanged sessions on every request.
  resave: false,

  // The most bytes of JSON one session may hold.
  maxSize: 64 * 1024,
  // When the store is down: answer 503 ('fail') or serve an unsaved, empty session ('anonymous').
  onStoreError: 'fail',

  // Where the user id sits in the session (passport keeps it at passport.user): sessions are then indexed
  // by user, for listUserSessions() and revokeUserSessions() ("sign out my other devices").
  userKey: 'passport.user',
});
