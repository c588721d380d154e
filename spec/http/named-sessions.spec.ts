import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { Body, Get, JsonController, Post, useExpressServer } from 'routing-controllers';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { Session, SessionValue, createSessionMiddleware, session } from '../../src';
import { answerErrors, sessionCookieOf, setCookieOf } from '../helpers/app';
import type { StoreUnderTest } from '../helpers/stores';
import { memoryStore, quietLogger, storesUnderTest, testSecret } from '../helpers/stores';
import { SwitchableStore } from '../helpers/switchable-store';

const adminSecret = 'the admin session has a secret of its own, long enough';
const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** The user's session (memory, cookie `sid`) and an admin session (`admin`) on the store under test. */
function sessionOptions(store: StoreUnderTest, admin: SessionOptions = {}) {
  return {
    user: { secret: testSecret, logger: quietLogger, driver: 'memory' } satisfies SessionOptions,
    admin: { name: 'admin', secret: adminSecret, logger: quietLogger, ...store.options(), ...admin },
  };
}

/** A plain Express app with both sessions, the admin one mounted second. */
function expressApp(store: StoreUnderTest, admin: SessionOptions = {}) {
  const options = sessionOptions(store, admin);
  const app = express();
  app.use(express.json());
  app.use(session(options.user));
  app.use(session(options.admin));
  app.post('/user', (request, response) => {
    request.session.user = request.body.user;
    response.send('signed in');
  });
  app.post('/admin', (request, response) => {
    request.sessions.admin!.admin = request.body.admin;
    response.send('admin signed in');
  });
  app.post('/both', (request, response) => {
    request.session.user = request.body.user;
    request.sessions.admin!.admin = request.body.admin;
    response.send('both signed in');
  });
  app.get('/who', (request, response) => {
    const { sessions } = request;
    response.json({
      user: request.session.user ?? null,
      admin: sessions.admin?.admin ?? null,
      names: Object.keys(sessions),
      mainIsSession: sessions.sid === request.session,
      sessionID: request.sessionID,
      userId: request.session.id,
      adminId: sessions.admin?.id,
    });
  });
  app.post('/admin/regenerate', async (request, response) => {
    const fresh = await request.sessions.admin!.regenerate();
    fresh.admin = 'regenerated';
    response.json({
      same: request.sessions.admin === fresh,
      mainKept: request.sessions.sid === request.session,
    });
  });
  app.post('/admin/destroy', async (request, response) => {
    await request.sessions.admin!.destroy();
    response.json({ admin: request.sessions.admin ?? null, user: request.session.user ?? null });
  });
  app.post('/user/regenerate', async (request, response) => {
    const fresh = await request.session.regenerate();
    fresh.user = 'regenerated';
    response.send('regenerated');
  });
  app.post('/user/destroy', async (request, response) => {
    await request.session.destroy();
    response.send('destroyed');
  });
  app.use(answerErrors);
  return app;
}

const cookiesOf = (...pairs: Array<string | undefined>) => pairs.filter(Boolean).join('; ');

/** Signs the user and the admin in, each in a request of its own; returns both cookies. */
async function signInBoth(app: express.Express) {
  const user = sessionCookieOf(await supertest(app).post('/user').send({ user: 'sharon' }).expect(200))!;
  const admin = sessionCookieOf(
    await supertest(app).post('/admin').set('Cookie', user).send({ admin: 'asif' }).expect(200),
    'admin',
  )!;
  assert.ok(user && admin, 'both cookies were set');
  return { user, admin, both: cookiesOf(user, admin) };
}

@JsonController('/rc')
class NamedSessionsController {
  @Post('/user')
  signIn(@Session() current: Session, @Body() body: { user: string }) {
    current.user = body.user;
    return { signedIn: true };
  }

  @Post('/admin')
  signInAdmin(@Session('admin') admin: Session, @Body() body: { admin: string }) {
    admin.admin = body.admin;
    return { signedIn: true };
  }

  @Get('/admin')
  adminPage(
    @SessionValue<string>('admin', { session: 'admin', required: true }) admin: string,
    @SessionValue<string>('user') user: string | undefined,
  ) {
    return { admin, user: user ?? null };
  }

  @Get('/admin/forbidden')
  adminForbidden(
    @SessionValue<string>('admin', { session: 'admin', required: true, status: 403 }) admin: string,
  ) {
    return { admin };
  }

  @Get('/user')
  userPage(@SessionValue<string>('user', { required: true }) user: string, @Session('admin') admin: Session) {
    return { user, admin: admin.admin ?? null };
  }

  @Post('/admin/sign-out')
  async signOutAdmin(@Session('admin') admin: Session) {
    await admin.destroy();
    return { signedOut: true };
  }

  @Get('/unknown')
  unknown(@Session('auditor') auditor: Session) {
    return { auditor: auditor.id };
  }
}

function routingControllersApp(store: StoreUnderTest) {
  const options = sessionOptions(store);
  const app = express();
  useExpressServer(app, {
    controllers: [NamedSessionsController],
    middlewares: [createSessionMiddleware(options.user), createSessionMiddleware(options.admin)],
    defaultErrorHandler: true,
  });
  return app;
}

for (const store of storesUnderTest) {
  describe(`named sessions, the admin one on ${store.name}`, () => {
    describe('on plain Express', () => {
      it('sets both cookies on a response that writes both sessions, and each reads its own data', async () => {
        const app = expressApp(store);
        const response = await supertest(app)
          .post('/both')
          .send({ user: 'sharon', admin: 'asif' })
          .expect(200);
        const user = sessionCookieOf(response)!;
        const admin = sessionCookieOf(response, 'admin')!;
        assert.equal(setCookieOf(response).length, 2);
        const both = (await supertest(app).get('/who').set('Cookie', cookiesOf(user, admin))).body;
        assert.equal(both.user, 'sharon');
        assert.equal(both.admin, 'asif');
        assert.deepEqual(both.names, ['sid', 'admin']);
        assert.equal(both.mainIsSession, true);
        assert.equal(both.sessionID, both.userId, 'request.sessionID stays the main session');
        assert.notEqual(both.adminId, both.userId);
        const userOnly = (await supertest(app).get('/who').set('Cookie', user)).body;
        assert.deepEqual([userOnly.user, userOnly.admin], ['sharon', null]);
        const adminOnly = (await supertest(app).get('/who').set('Cookie', admin)).body;
        assert.deepEqual([adminOnly.user, adminOnly.admin], [null, 'asif']);
      });

      it('keeps request.session the first middleware’s session when the admin one is built first', async () => {
        const app = expressApp(store);
        const response = await supertest(app).post('/admin').send({ admin: 'asif' }).expect(200);
        assert.equal(sessionCookieOf(response), undefined, 'the untouched user session sends no cookie');
        const admin = sessionCookieOf(response, 'admin')!;
        const who = (await supertest(app).get('/who').set('Cookie', admin)).body;
        assert.equal(who.admin, 'asif');
        assert.equal(who.user, null);
        assert.equal(who.sessionID, who.userId);
      });

      it('destroys the admin session and leaves the user signed in', async () => {
        const app = expressApp(store);
        const { user, admin, both } = await signInBoth(app);
        const destroyed = await supertest(app).post('/admin/destroy').set('Cookie', both).expect(200);
        assert.deepEqual(destroyed.body, { admin: null, user: 'sharon' });
        assert.equal(sessionCookieOf(destroyed), undefined, 'the user cookie is left alone');
        const after = (await supertest(app).get('/who').set('Cookie', cookiesOf(user, admin))).body;
        assert.deepEqual([after.user, after.admin], ['sharon', null]);
      });

      it('regenerates the admin session and leaves the user session as it was', async () => {
        const app = expressApp(store);
        const { user, admin, both } = await signInBoth(app);
        const regenerated = await supertest(app).post('/admin/regenerate').set('Cookie', both).expect(200);
        assert.deepEqual(regenerated.body, { same: true, mainKept: true });
        assert.equal(sessionCookieOf(regenerated), undefined, 'the user cookie is left alone');
        const newAdmin = sessionCookieOf(regenerated, 'admin')!;
        assert.notEqual(newAdmin, admin);
        const withNew = (await supertest(app).get('/who').set('Cookie', cookiesOf(user, newAdmin))).body;
        assert.deepEqual([withNew.user, withNew.admin], ['sharon', 'regenerated']);
        const withOld = (await supertest(app).get('/who').set('Cookie', both)).body;
        assert.deepEqual([withOld.user, withOld.admin], ['sharon', null]);
      });

      it('destroys or regenerates the user session and leaves the admin signed in', async () => {
        const app = expressApp(store);
        const signedIn = await signInBoth(app);
        const destroyed = await supertest(app).post('/user/destroy').set('Cookie', signedIn.both).expect(200);
        assert.equal(sessionCookieOf(destroyed, 'admin'), undefined, 'the admin cookie is left alone');
        const afterDestroy = (await supertest(app).get('/who').set('Cookie', signedIn.both)).body;
        assert.deepEqual([afterDestroy.user, afterDestroy.admin], [null, 'asif']);

        const again = await signInBoth(app);
        const regenerated = await supertest(app)
          .post('/user/regenerate')
          .set('Cookie', again.both)
          .expect(200);
        const newUser = sessionCookieOf(regenerated)!;
        assert.notEqual(newUser, again.user);
        const afterRegenerate = (
          await supertest(app).get('/who').set('Cookie', cookiesOf(newUser, again.admin))
        ).body;
        assert.deepEqual([afterRegenerate.user, afterRegenerate.admin], ['regenerated', 'asif']);
      });

      it('expires the admin session on its own idle timeout while the user session stays', async () => {
        const app = expressApp(store, { idleTimeout: 0.3 });
        const { both } = await signInBoth(app);
        await pause(500);
        const after = (await supertest(app).get('/who').set('Cookie', both)).body;
        assert.deepEqual([after.user, after.admin], ['sharon', null]);
      });

      it('sends each cookie with its own attributes', async () => {
        const app = expressApp(store, { cookie: { maxAge: 60_000, sameSite: 'strict' } });
        const response = await supertest(app)
          .post('/both')
          .send({ user: 'sharon', admin: 'asif' })
          .expect(200);
        const [userCookie] = setCookieOf(response).filter((line) => line.startsWith('sid='));
        const [adminCookie] = setCookieOf(response).filter((line) => line.startsWith('admin='));
        assert.doesNotMatch(userCookie!, /Max-Age|Expires/);
        assert.match(adminCookie!, /Expires=/);
        assert.match(adminCookie!, /SameSite=Strict/);
      });
    });

    describe('on routing-controllers', () => {
      it('injects the named session with @Session(name) and reads it with @SessionValue(key, { session })', async () => {
        const app = routingControllersApp(store);
        const agent = supertest.agent(app);
        await agent.post('/rc/user').send({ user: 'sharon' }).expect(200);
        const signIn = await agent.post('/rc/admin').send({ admin: 'asif' }).expect(200);
        assert.ok(sessionCookieOf(signIn, 'admin'));
        assert.deepEqual((await agent.get('/rc/admin').expect(200)).body, { admin: 'asif', user: 'sharon' });
        assert.deepEqual((await agent.get('/rc/user').expect(200)).body, { user: 'sharon', admin: 'asif' });
        await agent.post('/rc/admin/sign-out').expect(200);
        assert.deepEqual((await agent.get('/rc/user').expect(200)).body, { user: 'sharon', admin: null });
      });

      it('answers a missing required value of the named session as the required option does', async () => {
        const app = routingControllersApp(store);
        const agent = supertest.agent(app);
        await agent.post('/rc/user').send({ user: 'sharon' }).expect(200);
        const missing = await agent.get('/rc/admin').expect(401);
        assert.equal(missing.body.name, 'SessionValueRequiredError');
        assert.match(missing.body.message, /"admin"/);
        await agent.get('/rc/admin/forbidden').expect(403);
      });
    });
  });
}

describe('named sessions: a shared name, an unknown name, a mounted app, writeHead', () => {
  it('refuses two session middlewares with the same name on one request, naming it', async () => {
    const app = express();
    app.use(session({ secret: testSecret, logger: quietLogger, driver: 'memory' }));
    app.use(session({ secret: adminSecret, logger: quietLogger, driver: 'memory' }));
    app.get('/', (_request, response) => response.send('never'));
    app.use(answerErrors);
    const response = await supertest(app).get('/').expect(500);
    assert.equal(response.body.name, 'SessionConfigError');
    assert.match(response.body.message, /both named 'sid'/);
    assert.match(response.body.message, /session\(\{ name: 'admin'/);
  });

  it('answers 500 naming the session when @Session(name) finds no middleware of that name', async () => {
    const app = routingControllersApp(storesUnderTest[0]!);
    const response = await supertest(app).get('/rc/unknown').expect(500);
    assert.equal(response.body.name, 'SessionNotMountedError');
    assert.match(response.body.message, /No session named 'auditor'/);
    assert.match(response.body.message, /session\(\{ name: 'auditor'/);
  });

  it('keeps both session cookies beside a Set-Cookie the app gives writeHead', async () => {
    const app = express();
    app.use(session(sessionOptions(memoryStore).user), session(sessionOptions(memoryStore).admin));
    app.get('/', (request, response) => {
      request.session.user = 'sharon';
      request.sessions.admin!.admin = 'asif';
      response.writeHead(200, { 'Set-Cookie': 'theme=dark' });
      response.end('ok');
    });
    const response = await supertest(app).get('/').expect(200);
    assert.deepEqual(
      setCookieOf(response).map((line) => line.split('=')[0]),
      ['theme', 'sid', 'admin'],
    );
  });

  it('runs the same middleware only once when a mounted app passes the request through it again', async () => {
    const user = session({ secret: testSecret, logger: quietLogger, driver: 'memory' });
    const admin = session({ name: 'admin', secret: adminSecret, logger: quietLogger, driver: 'memory' });
    const inner = express();
    inner.use(user, admin);
    inner.post('/both', (request, response) => {
      request.session.user = 'sharon';
      request.sessions.admin!.admin = 'asif';
      response.json(Object.keys(request.sessions));
    });
    const outer = express();
    outer.use(user, admin);
    outer.use('/inner', inner);
    const response = await supertest(outer).post('/inner/both').expect(200);
    assert.deepEqual(response.body, ['sid', 'admin']);
    assert.equal(setCookieOf(response).length, 2);
  });
});

describe('named sessions, the admin store down at the end of a request', () => {
  /** Both sessions, the admin one on a store the route takes down before it answers. */
  function appWithAdminStore(adminOptions: SessionOptions = {}) {
    const adminStore = new SwitchableStore();
    const errors: unknown[] = [];
    const app = express();
    app.use(express.json());
    app.use(session(sessionOptions(memoryStore).user));
    app.use(
      session({
        ...sessionOptions(memoryStore, adminOptions).admin,
        store: adminStore,
        logger: { warn: () => undefined, error: (...logged: unknown[]) => errors.push(logged) },
      }),
    );
    app.post('/admin', (request, response) => {
      request.sessions.admin!.admin = request.body.admin;
      response.send('admin signed in');
    });
    app.post('/down', (request, response) => {
      if (request.body.user) request.session.user = request.body.user;
      if (request.body.admin) request.sessions.admin!.admin = request.body.admin;
      adminStore.mode = 'failing';
      response.send('answered');
    });
    app.get('/who', (request, response) => {
      response.json({ user: request.session.user ?? null, admin: request.sessions.admin?.admin ?? null });
    });
    app.use(answerErrors);
    return { app, adminStore, errors };
  }

  it('fails the response whose admin changes cannot be saved, and keeps what the admin session held', async () => {
    const { app, adminStore } = appWithAdminStore();
    const admin = sessionCookieOf(await supertest(app).post('/admin').send({ admin: 'asif' }), 'admin')!;
    const failed = await supertest(app).post('/down').set('Cookie', admin).send({ admin: 'changed' });
    assert.equal(failed.status, 503);
    assert.equal(sessionCookieOf(failed), undefined, 'no cookie goes out with a failed response');
    adminStore.mode = 'up';
    assert.equal((await supertest(app).get('/who').set('Cookie', admin)).body.admin, 'asif');
  });

  it('lets a failed touch of the admin session lose nothing: the user session is saved and its cookie set', async () => {
    const { app, errors } = appWithAdminStore({ touchInterval: 0.01 });
    const admin = sessionCookieOf(await supertest(app).post('/admin').send({ admin: 'asif' }), 'admin')!;
    await pause(50);
    const answered = await supertest(app)
      .post('/down')
      .set('Cookie', admin)
      .send({ user: 'sharon' })
      .expect(200);
    const user = sessionCookieOf(answered)!;
    assert.ok(user, 'the user cookie is set');
    assert.equal(sessionCookieOf(answered, 'admin'), undefined);
    assert.equal(errors.length, 1, 'the failed touch is logged');
    assert.equal((await supertest(app).get('/who').set('Cookie', user)).body.user, 'sharon');
  });
});
