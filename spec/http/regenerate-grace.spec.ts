import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import type { SessionEvent, SessionOptions } from '../../src';
import { MemoryStore, session } from '../../src';
import { storeKeyOf } from '../../src/session/ids';
import { sessionCookieOf, setCookieOf } from '../helpers/app';
import { sessionIdOfCookie } from '../helpers/session-ids';
import { startServerProcess } from '../helpers/processes';
import { quietLogger, sharedStoresUnderTest, storesUnderTest, testSecret } from '../helpers/stores';

/** An app whose sign-in regenerates the session (keeping the cart) before it puts the user in. */
function signInApp(options: SessionOptions) {
  const handler = session({ secret: testSecret, logger: quietLogger, ...options });
  const signIns = new EventEmitter();
  const app = express();
  app.use(express.json());
  app.use(handler);
  app.get('/session', (request: Request, response: Response) => {
    response.json({ data: request.session });
  });
  app.put('/keys/:key', (request: Request, response: Response) => {
    request.session![request.params.key as string] = request.body.value;
    response.send('set');
  });
  app.post('/sign-in', async (request: Request, response: Response) => {
    const signedIn = await request.session!.regenerate({ keepData: true });
    signedIn.userId = 42;
    // passport saves at once; `hold` keeps the answer (with the new cookie) from the client a while longer
    await signedIn.save();
    signIns.emit('saved');
    setTimeout(() => response.send('signed in'), Number(request.query.hold ?? 0));
  });
  app.post('/regenerate', async (request: Request, response: Response) => {
    await request.session!.regenerate({ keepData: true });
    response.send('regenerated');
  });
  app.post('/sign-out-others', async (request: Request, response: Response) => {
    const except = request.sessionID;
    const current = (await handler.listUserSessions(42, { current: except })).filter((info) => info.current);
    response.json({ current: current.length, revoked: await handler.revokeUserSessions(42, { except }) });
  });
  app.post('/destroy', async (request: Request, response: Response) => {
    await request.session!.destroy();
    response.send('destroyed');
  });
  return { app, handler, signIns };
}

/** A new client puts a book in its cart: its session cookie. */
async function withCart(app: express.Express | string): Promise<string> {
  const response = await supertest(app)
    .put('/keys/cart')
    .send({ value: ['book'] })
    .expect(200);
  return sessionCookieOf(response)!;
}

/** A client with a cart signs in (`path` regenerates its session): its cookie before (`old`) and after (`signedIn`). */
async function signIn(
  app: express.Express | string,
  path = '/sign-in',
): Promise<{ old: string; signedIn: string }> {
  const old = await withCart(app);
  const signedIn = sessionCookieOf(await supertest(app).post(path).set('Cookie', old).expect(200))!;
  assert.ok(old && signedIn && old !== signedIn);
  return { old, signedIn };
}

const dataWith = async (app: express.Express, cookie: string) =>
  (await supertest(app).get('/session').set('Cookie', cookie).expect(200)).body.data as Record<
    string,
    unknown
  >;

for (const store of storesUnderTest) {
  describe(`regenerateGrace on the ${store.name} store`, () => {
    it('serves a request with the old id the signed-in session, sends it no cookie, and saves its write there', async () => {
      const { app } = signInApp({ ...store.options(), regenerateGrace: '10s' });
      const { old, signedIn } = await signIn(app);

      const parallel = await supertest(app).get('/session').set('Cookie', old).expect(200);
      assert.deepEqual(parallel.body.data, { cart: ['book'], userId: 42 });
      assert.deepEqual(setCookieOf(parallel), [], 'the old cookie is left alone');

      const write = await supertest(app).put('/keys/theme').set('Cookie', old).send({ value: 'dark' });
      assert.deepEqual(setCookieOf(write), []);
      assert.deepEqual(await dataWith(app, signedIn), { cart: ['book'], userId: 42, theme: 'dark' });
    });

    it('serves the signed-in session to a request sent while the sign-in is still answering', async () => {
      const { app, signIns } = signInApp({ ...store.options(), regenerateGrace: '10s' });
      const old = await withCart(app);
      const saved = once(signIns, 'saved');
      const signingIn = supertest(app).post('/sign-in?hold=300').set('Cookie', old).expect(200);
      const signedIn = signingIn.then((response) => sessionCookieOf(response)!);
      await saved;
      const parallel = await supertest(app).put('/keys/seen').set('Cookie', old).send({ value: true });
      assert.deepEqual(setCookieOf(parallel), [], 'no new session whose cookie would sign the client out');
      assert.deepEqual(await dataWith(app, await signedIn), { cart: ['book'], userId: 42, seen: true });
    });

    it('serves the old id an empty session once the window is over', async () => {
      const { app } = signInApp({ ...store.options(), regenerateGrace: 1 });
      const { old, signedIn } = await signIn(app);
      await sleep(1200);
      assert.deepEqual(await dataWith(app, old), {});
      assert.deepEqual(await dataWith(app, signedIn), { cart: ['book'], userId: 42 });
    });

    it('serves the old id an empty session once the new session is destroyed, within the window', async () => {
      const { app } = signInApp({ ...store.options(), regenerateGrace: '10s' });
      const { old, signedIn } = await signIn(app);
      await supertest(app).post('/destroy').set('Cookie', signedIn).expect(200);
      assert.deepEqual(await dataWith(app, old), {});
    });

    it('destroys the new session when a request with the old id destroys, and leaves the cookie alone', async () => {
      const { app, handler } = signInApp({ ...store.options(), regenerateGrace: '10s' });
      const { old, signedIn } = await signIn(app);
      const events: Array<[string, SessionEvent]> = [];
      for (const name of ['created', 'destroyed'] as const)
        handler.events.on(name, (event: SessionEvent) => events.push([name, event]));
      const destroyed = await supertest(app).post('/destroy').set('Cookie', old).expect(200);
      assert.deepEqual(setCookieOf(destroyed), [], 'no clearing cookie: it would clear the signed-in one');
      assert.deepEqual(
        events.map(([name, event]) => [name, event.id]),
        [['destroyed', storeKeyOf(sessionIdOfCookie(signedIn))]],
        'the session destroyed is the signed-in one; the forwarded one was not created',
      );
      assert.deepEqual(await dataWith(app, signedIn), {});
      assert.deepEqual(await dataWith(app, old), {});
    });

    it('serves the old id an empty session once the user is revoked, within the window', async () => {
      const { app, handler } = signInApp({ ...store.options(), userKey: 'userId', regenerateGrace: '10s' });
      const { old, signedIn } = await signIn(app);
      assert.equal(await handler.revokeUserSessions(42), 1);
      assert.deepEqual(await dataWith(app, old), {});
      assert.deepEqual(await dataWith(app, signedIn), {});
    });

    it("takes a request with the old id for the signed-in device: 'sign out the others' keeps its session", async () => {
      const { app } = signInApp({ ...store.options(), userKey: 'userId', regenerateGrace: '10s' });
      const { old, signedIn } = await signIn(app);
      const others = await supertest(app).post('/sign-out-others').set('Cookie', old).expect(200);
      assert.deepEqual(others.body, { current: 1, revoked: 0 });
      assert.deepEqual(await dataWith(app, signedIn), { cart: ['book'], userId: 42 });
    });

    it('forwards one step only: an id regenerated twice within the window leads nowhere', async () => {
      const { app } = signInApp({ ...store.options(), regenerateGrace: '10s' });
      const { old, signedIn } = await signIn(app);
      const latest = sessionCookieOf(await supertest(app).post('/regenerate').set('Cookie', signedIn))!;
      assert.deepEqual(await dataWith(app, old), {});
      assert.deepEqual(await dataWith(app, signedIn), { cart: ['book'], userId: 42 });
      assert.deepEqual(await dataWith(app, latest), { cart: ['book'], userId: 42 });
    });

    it('never turns the old id into a lasting cookie: a regenerate through it keeps nothing', async () => {
      const { app } = signInApp({ ...store.options(), regenerateGrace: '10s' });
      const { old } = await signIn(app);
      const fresh = sessionCookieOf(await supertest(app).post('/regenerate').set('Cookie', old).expect(200))!;
      assert.deepEqual(
        await dataWith(app, fresh),
        {},
        'a new cookie with the signed-in data would outlive the window',
      );
      assert.deepEqual(await dataWith(app, old), {});
    });

    it('without the option serves the old id an empty session, as before', async () => {
      const { app } = signInApp(store.options());
      const { old } = await signIn(app);
      assert.deepEqual(await dataWith(app, old), {});
    });
  });
}

for (const store of storesUnderTest) {
  describe(`regenerateGrace events on the ${store.name} store`, () => {
    it('tells the expiry of a forwarded session by its own at-rest id, not the old id', async () => {
      // the store keeps sessions as long as the signing-in app's idle timeout; the reader's shorter one finds them expired
      const shared = store.name === 'memory' ? { store: new MemoryStore() } : store.options();
      const { app } = signInApp({ ...shared, idleTimeout: 60, regenerateGrace: '10s' });
      const reader = signInApp({ ...shared, idleTimeout: 1, regenerateGrace: '10s' });
      const expired: string[] = [];
      reader.handler.events.on('expired', (event: SessionEvent) => expired.push(event.id!));
      const { old, signedIn } = await signIn(app);
      await sleep(1100);
      assert.deepEqual(await dataWith(reader.app, old), {});
      assert.deepEqual(expired, [storeKeyOf(sessionIdOfCookie(signedIn))]);
    });
  });
}

for (const store of sharedStoresUnderTest) {
  describe(`regenerateGrace across two processes sharing one ${store.name} store`, () => {
    it('serves the old id, in the other process, the session it was regenerated into', async () => {
      const options = { ...store.options(), secret: testSecret, regenerateGrace: '10s' };
      const [first, second] = await Promise.all([startServerProcess(options), startServerProcess(options)]);
      const { old, signedIn } = await signIn(first, '/regenerate?keep=yes');
      await supertest(second).put('/keys/userId').set('Cookie', old).send({ value: 7 }).expect(200);
      const read = await supertest(first).get('/session').set('Cookie', signedIn).expect(200);
      assert.deepEqual(read.body.data, { cart: ['book'], userId: 7 });
    });
  });
}
