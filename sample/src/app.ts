import 'reflect-metadata';
import express from 'express';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { useExpressServer } from 'routing-controllers';
import type { SessionOptions } from 'routing-controllers-session';
import { createSessionMiddleware } from 'routing-controllers-session';
import { sessionConfig } from './config/session';
import { AuthController } from './controllers/AuthController';
import { IndexController } from './controllers/IndexController';
import { PageController } from './controllers/PageController';
import { SignedOutElsewhere } from './page/signed-out-elsewhere';
import { SignIns } from './sign-ins';
import { demoAccount } from './users';

/** How long a revoked session could have lived on: the idle timeout of config/session.ts ('2h'). */
const idleTimeoutMs = 2 * 60 * 60 * 1000;

passport.use(
  new LocalStrategy((username, password, done) =>
    username === demoAccount.username && password === demoAccount.password
      ? done(null, { id: demoAccount.id, name: demoAccount.name })
      : done(null, false),
  ),
);
passport.serializeUser((user, done) => done(null, (user as { id: number }).id));
passport.deserializeUser((id: number, done) =>
  done(null, id === demoAccount.id ? { id: demoAccount.id, name: demoAccount.name } : false),
);

/** The sample app: routing-controllers with the session middleware class. */
export function createApp(overrides: SessionOptions = {}): express.Express {
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  const sessions = createSessionMiddleware({ ...sessionConfig, ...overrides });
  // The page reaches listUserSessions and revokeUserSessions here (static methods of the middleware class).
  app.locals.userSessions = sessions;
  app.locals.signedOutElsewhere = new SignedOutElsewhere(idleTimeoutMs);
  // "Last sign-in" from the sessions' lifecycle events: each sign-in regenerates the session.
  const signIns = new SignIns();
  sessions.events.on('regenerated', (event) => signIns.record(event));
  app.locals.signIns = signIns;
  useExpressServer(app, {
    controllers: [IndexController, AuthController, PageController],
    middlewares: [sessions],
    // Error bodies without the stack, in development too (routing-controllers adds it outside production):
    // JSON controllers answer { name, message }, the page a line of text. Express still logs the error.
    development: false,
  });
  return app;
}
