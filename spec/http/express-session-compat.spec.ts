import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import compression from 'compression';
import cookieParser from 'cookie-parser';
import express from 'express';
import type { Request, Response } from 'express';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import supertest from 'supertest';
import type { SessionStoreApi, SessionHandler } from '../../src';
import { storeKeyOf } from '../../src/session/ids';
import { MemoryStore, SessionConfigError, session } from '../../src';
import { SwitchableStore } from '../helpers/switchable-store';
import { signSessionId } from '../../src/session/cookie';
import { createTestApp, listen, sessionCookieOf, setCookieOf } from '../helpers/app';
import {
  quietLogger,
  storesUnderTest,
  temporaryDirectory,
  testSecret,
  sessionFileStore,
} from '../helpers/stores';

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

const day = 24 * 60 * 60 * 1000;

/** An app whose login can ask to be remembered: `cookie.maxAge` set on that session only. */
function rememberingApp(options: Parameters<typeof session>[0]) {
  const app = express();
  app.locals.sessions = session({ secret: testSecret, logger: quietLogger, ...options });
  app.use(app.locals.sessions as SessionHandler);
  app.post('/login', (request: Request, response: Response) => {
    if (request.query.remember === 'yes') request.session!.cookie.maxAge = 30 * day;
    request.session!.user = 'sharon';
    response.send('in');
  });
  app.get('/me', (request: Request, response: Response) => {
    response.json({ user: request.session!.user ?? null, maxAge: request.session!.cookie.maxAge });
  });
  return app;
}

const expiresOf = (line: string | undefined) => Date.parse(/Expires=([^;]+)/.exec(line ?? '')?.[1] ?? '');

for (const store of storesUnderTest) {
  describe(`"remember me" on the ${store.name} store`, () => {
    it('keeps the maxAge a login set on its session: later rolled cookies carry it, and cookie.maxAge reads it', async () => {
      const agent = supertest.agent(rememberingApp({ ...store.options(), rolling: true }));
      const login = await agent.post('/login?remember=yes').expect(200);
      assert.ok(expiresOf(setCookieOf(login)[0]) > Date.now() + 29 * day, 'the login cookie lasts 30 days');
      const later = await agent.get('/me').expect(200);
      assert.equal(later.body.user, 'sharon');
      assert.ok(later.body.maxAge > 29 * day, `cookie.maxAge reads ${later.body.maxAge}`);
      assert.ok(
        expiresOf(setCookieOf(later)[0]) > Date.now() + 29 * day,
        'the rolled cookie still lasts 30 days',
      );
    });
  });
}

describe('how long a session lives when the app sets a cookie maxAge', () => {
  const later = async (agent: ReturnType<typeof supertest.agent>, milliseconds: number) => {
    mock.timers.tick(milliseconds);
    return (await agent.get('/me').expect(200)).body.user as string | null;
  };

  it('lives as long as its cookie when idleTimeout is not set, as with express-session', async (context) => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    context.after(() => mock.timers.reset());
    const agent = supertest.agent(rememberingApp({ driver: 'memory', cookie: { maxAge: 30 * day } }));
    await agent.post('/login').expect(200);
    assert.equal(await later(agent, 3 * 60 * 60 * 1000), 'sharon', 'past the 2 h idle default');
    assert.equal(await later(agent, 8 * day), 'sharon', 'past the 7 d absolute default');
    assert.equal(await later(agent, 31 * day), null, 'not past its cookie');
  });

  it('a per-session "remember me" lives its 30 days, while other sessions keep the 2 h idle default', async (context) => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    context.after(() => mock.timers.reset());
    const app = rememberingApp({ driver: 'memory' });
    const remembered = supertest.agent(app);
    const ordinary = supertest.agent(app);
    await remembered.post('/login?remember=yes').expect(200);
    await ordinary.post('/login').expect(200);
    mock.timers.tick(3 * 60 * 60 * 1000);
    assert.equal((await ordinary.get('/me')).body.user, null);
    assert.equal((await remembered.get('/me')).body.user, 'sharon');
  });

  it('follows idleTimeout and absoluteTimeout where the options set them', async (context) => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    context.after(() => mock.timers.reset());
    const agent = supertest.agent(
      rememberingApp({ driver: 'memory', cookie: { maxAge: 30 * day }, idleTimeout: '2h' }),
    );
    await agent.post('/login').expect(200);
    assert.equal(await later(agent, 3 * 60 * 60 * 1000), null);
  });
});

describe('regenerate() and destroy() as passport uses them', () => {
  it('put a new session object on the request and leave the old one holding its data', async () => {
    const app = express();
    app.use(session({ secret: testSecret, logger: quietLogger, driver: 'memory' }));
    app.post('/', async (request: Request, response: Response) => {
      request.session!.returnTo = '/cart';
      const before = request.session!;
      await new Promise<void>((resolve) => before.regenerate(() => resolve()));
      const afterRegenerate = request.session!;
      const copied = before.returnTo;
      await new Promise<void>((resolve) => afterRegenerate.destroy(() => resolve()));
      response.json({
        replaced: afterRegenerate !== before && request.session !== afterRegenerate,
        kept: copied,
        after: afterRegenerate.returnTo ?? null,
      });
    });
    const response = await supertest(app).post('/').expect(200);
    assert.deepEqual(response.body, { replaced: true, kept: '/cart', after: null });
  });

  it("keep passport's returnTo across login with keepSessionInfo: true (passport 0.7, passport-local)", async () => {
    const authenticator = new Passport();
    authenticator.use(
      new LocalStrategy((username, password, done) =>
        done(null, username === 'sharon' && password === 'pw' ? { id: 'sharon' } : false),
      ),
    );
    authenticator.serializeUser((user: Express.User, done) => done(null, (user as { id: string }).id));
    authenticator.deserializeUser((id: string, done) => done(null, { id }));
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(session({ secret: testSecret, logger: quietLogger, driver: 'memory' }));
    app.use(authenticator.session());
    app.get('/cart', (request: Request, response: Response) => {
      if (!request.user) {
        request.session!.returnTo = '/cart';
        return response.redirect('/login');
      }
      response.send(`cart of ${(request.user as { id: string }).id}`);
    });
    app.post(
      '/login',
      authenticator.authenticate('local', { keepSessionInfo: true }),
      (request: Request, response: Response) =>
        response.redirect((request.session!.returnTo as string) ?? '/'),
    );
    const agent = supertest.agent(app);
    await agent.get('/cart').expect(302).expect('Location', '/login');
    await agent
      .post('/login')
      .type('form')
      .send({ username: 'sharon', password: 'pw' })
      .expect(302)
      .expect('Location', '/cart');
    await agent.get('/cart').expect(200, 'cart of sharon');
  });
});

for (const store of storesUnderTest) {
  describe(`request.sessionStore on the ${store.name} store`, () => {
    it("offers express-session's Store API: get, set, touch, length, all, and destroy to sign out another device", async () => {
      const { app } = createTestApp({ ...store.options(), userKey: 'user' });
      app.get('/store/get/:sid', (request: Request, response: Response, next) => {
        request.sessionStore.get(request.params.sid as string, (error, found) =>
          error ? next(error) : response.json(found),
        );
      });
      app.post('/store/destroy/:sid', (request: Request, response: Response, next) => {
        request.sessionStore.destroy(request.params.sid as string, (error) =>
          error ? next(error) : response.send('signed out'),
        );
      });
      app.post('/store/set/:sid', async (request: Request, response: Response) => {
        // the Promise forms, which express-session's Store type does not declare
        const sessionStore = request.sessionStore as unknown as SessionStoreApi;
        const found = (await sessionStore.get(request.params.sid as string))!;
        await sessionStore.set(request.params.sid as string, { ...found, note: 'set by store' });
        await sessionStore.touch(request.params.sid as string, found);
        response.json({ length: await sessionStore.length(), all: await sessionStore.all() });
      });
      const phone = supertest.agent(app);
      const phoneId = (await phone.put('/keys/user').send({ value: 'sharon' })).body.id as string;
      const laptop = supertest.agent(app);
      await laptop.put('/keys/user').send({ value: 'sharon' });

      const found = await laptop.get(`/store/get/${phoneId}`).expect(200);
      assert.equal(found.body.user, 'sharon');
      assert.equal(typeof found.body.cookie, 'object');
      const listed = await laptop.post(`/store/set/${phoneId}`).expect(200);
      assert.equal(listed.body.length, 2);
      assert.equal(Object.keys(listed.body.all).length, 2);
      assert.equal((await phone.get('/session')).body.data.note, 'set by store');

      await laptop.post(`/store/destroy/${phoneId}`).expect(200, 'signed out');
      assert.deepEqual((await phone.get('/session')).body.data, {}, 'the other device is signed out');
      assert.equal((await laptop.get('/session')).body.data.user, 'sharon');
      assert.equal((await laptop.get(`/store/get/${phoneId}`)).body, null);
    });
  });
}

describe('express-session behaviours around the request', () => {
  it('session.save() prevents a second write at the end of the request', async () => {
    let writes = 0;
    const store = new MemoryStore();
    const countingStore = Object.assign(store, {
      apply: (...args: Parameters<MemoryStore['apply']>) => {
        writes += 1;
        return MemoryStore.prototype.apply.apply(store, args);
      },
      applyNow: (...args: Parameters<MemoryStore['applyNow']>) => {
        writes += 1;
        return MemoryStore.prototype.applyNow.apply(store, args);
      },
    });
    const app = express();
    app.use(session({ secret: testSecret, logger: quietLogger, store: countingStore, resave: true }));
    app.get('/', (request: Request, response: Response, next) => {
      request.session!.hit = true;
      request.session!.save((error) => (error ? next(error) : response.send('saved')));
    });
    await supertest(app).get('/').expect(200, 'saved');
    assert.equal(writes, 1);
  });

  it('gives no session outside the cookie path, and takes per-request cookie options from a function', async () => {
    const app = express();
    app.use(
      session({
        secret: testSecret,
        logger: quietLogger,
        driver: 'memory',
        cookie: (request) => ({ path: '/app', sameSite: request.headers['x-cross'] ? 'auto' : 'strict' }),
      }),
    );
    app.use((request: Request, response: Response) => {
      if (request.session) request.session.visited = true;
      response.send(String(request.session !== undefined));
    });
    const outside = await supertest(app).get('/other').expect(200, 'false');
    assert.deepEqual(setCookieOf(outside), []);
    const inside = await supertest(app).get('/app/page').expect(200, 'true');
    assert.match(setCookieOf(inside)[0]!, /Path=\/app; HttpOnly; SameSite=Strict/);
    const crossSite = await supertest(app)
      .get('/app/page')
      .set('X-Cross', '1')
      .set('X-Forwarded-Proto', 'https');
    assert.match(setCookieOf(crossSite)[0]!, /SameSite=Lax/, "'auto' is Lax on plain http");
  });

  it('leaves request.session undefined after destroy(), and sends no cookie for a session never stored', async () => {
    const app = express();
    app.use(session({ secret: testSecret, logger: quietLogger, driver: 'memory' }));
    app.get('/', (request: Request, response: Response) => {
      request.session!.destroy(() => response.send(String(request.session)));
    });
    const response = await supertest(app).get('/').expect(200, 'undefined');
    assert.deepEqual(setCookieOf(response), []);
  });

  it('a touch or an empty new session that cannot be stored does not fail the response; the error goes to next', async () => {
    const failing = new SwitchableStore();
    const errors: unknown[] = [];
    const app = express();
    app.use(session({ secret: testSecret, logger: quietLogger, store: failing, saveUninitialized: true }));
    app.get('/', (_request: Request, response: Response) => response.send('ok'));
    app.use((error: unknown, _request: Request, _response: Response, next: express.NextFunction) => {
      errors.push(error);
      next();
    });
    failing.mode = 'failing';
    await supertest(app).get('/').expect(200, 'ok');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((errors[0] as Error | undefined)?.message, 'connection refused');
  });

  it('gives no session while an express-session store says it is disconnected, and one again once it reconnects', async () => {
    const store = sessionFileStore('disconnect');
    const app = express();
    app.use(session({ secret: testSecret, logger: quietLogger, store }));
    app.get('/', (request: Request, response: Response) => response.send(typeof request.session));
    store.emit('disconnect');
    await supertest(app).get('/').expect(200, 'undefined');
    store.emit('connect');
    await supertest(app).get('/').expect(200, 'object');
  });
});

/** A memory store whose writes take 200 ms, and that notes when the last one was done. */
class SlowMemoryStore extends MemoryStore {
  lastWriteDoneAt = 0;

  override async apply(...args: Parameters<MemoryStore['apply']>): ReturnType<MemoryStore['apply']> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const applied = await super.apply(...args);
    this.lastWriteDoneAt = performance.now();
    return applied;
  }

  override applyNow(): undefined {
    return undefined;
  }
}

describe('a response whose body leaves before end()', () => {
  const file = join(temporaryDirectory('sendfile'), 'receipt.txt');
  writeFileSync(file, 'receipt '.repeat(10_000));

  for (const [name, respond] of [
    ['res.sendFile', (response: Response) => response.sendFile(file)],
    [
      'the whole body through res.write, then res.end(), with a Content-Length',
      (response: Response) => {
        response.setHeader('Content-Length', '12');
        response.write('hello, ');
        response.write('world');
        response.end();
      },
    ],
  ] as const) {
    it(`is held until the session is saved (${name}), so a client that has the body can rely on it`, async () => {
      const store = new SlowMemoryStore();
      const app = express();
      app.use(session({ secret: testSecret, logger: quietLogger, store }));
      app.get('/visit', (request: Request, response: Response) => {
        request.session!.visited = true;
        respond(response);
      });
      const server = await listen(app);
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/visit`);
      await response.text();
      const bodyReceivedAt = performance.now();
      assert.ok(store.lastWriteDoneAt > 0, 'the session was stored');
      assert.ok(store.lastWriteDoneAt <= bodyReceivedAt, 'before the client had the whole body');
    });
  }
});

describe('compression in front of or behind the session', () => {
  for (const order of ['compression first', 'session first'] as const) {
    it(`gzips a sendFile and a JSON body whose session changed, and saves both (${order})`, async () => {
      const file = join(temporaryDirectory('gzip'), 'big.txt');
      writeFileSync(file, 'hello world '.repeat(50_000));
      const app = express();
      const sessions = session({ secret: testSecret, logger: quietLogger, driver: 'memory' });
      if (order === 'compression first') app.use(compression(), sessions);
      else app.use(sessions, compression());
      const count = (request: Request) =>
        (request.session!.count = ((request.session!.count as number | undefined) ?? 0) + 1);
      app.get('/file', (request: Request, response: Response) => (count(request), response.sendFile(file)));
      app.get('/json', (request: Request, response: Response) =>
        response.json({ n: count(request), pad: 'x'.repeat(50_000) }),
      );
      app.get('/count', (request: Request, response: Response) =>
        response.send(String(request.session!.count)),
      );
      const agent = supertest.agent(app);
      const sent = await agent.get('/file').set('Accept-Encoding', 'gzip').expect(200);
      assert.equal(sent.headers['content-encoding'], 'gzip');
      assert.equal(sent.text.length, 600_000);
      await agent.get('/json').set('Accept-Encoding', 'gzip').expect(200).expect('Content-Encoding', 'gzip');
      await agent.get('/count').expect(200, '2');
    });
  }
});

for (const store of storesUnderTest) {
  describe(`a session with a cookie maxAge on the ${store.name} store`, () => {
    it('is stored to expire with its cookie, not after the 2 h idle default', async () => {
      const app = rememberingApp({ ...store.options(), cookie: { maxAge: 30 * day } });
      const login = await supertest(app).post('/login').expect(200);
      const sessionId = decodeURIComponent(sessionCookieOf(login)!.slice(4)).slice(2).split('.')[0]!;
      const { store: keyv } = app.locals.sessions as SessionHandler;
      // Keyv 6 reads the stored envelope with getRaw, Keyv 5 with get(key, { raw: true })
      const raw = keyv as unknown as {
        getRaw?: (key: string) => Promise<unknown>;
        get: (key: string, options: { raw: true }) => Promise<unknown>;
      };
      const key = storeKeyOf(sessionId);
      const stored = (await (raw.getRaw ? raw.getRaw(key) : raw.get(key, { raw: true }))) as
        { expires?: number } | undefined;
      assert.ok(stored?.expires && stored.expires > Date.now() + 29 * day, `expires at ${stored?.expires}`);
    });
  });
}
