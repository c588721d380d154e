import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { agentFor, createTestApp, sessionCookieOf, setCookieOf } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

const users = [
  { id: 1, name: 'Sharon' },
  { id: 2, name: 'Asif' },
];

for (const store of storesUnderTest) {
  describe(`the session lifecycle on the ${store.name} store`, () => {
    it('sends no cookie and writes nothing for a request that leaves the new session empty', async () => {
      const { agent, handler } = agentFor(store.options());
      const response = await agent.get('/session').expect(200);
      assert.deepEqual(setCookieOf(response), []);
      assert.deepEqual(response.body.data, {});
      const keys: unknown[] = [];
      for await (const entry of handler.store.iterator!()) keys.push(entry);
      assert.equal(keys.length, 0);
    });

    it('stores a value, sends a signed HttpOnly SameSite=Lax cookie, and reads it back on the next request', async () => {
      const { agent } = agentFor(store.options());
      const stored = await agent.put('/keys/users').send({ value: users }).expect(200);
      const [cookie] = setCookieOf(stored);
      assert.match(cookie!, /^sid=s%3A[A-Za-z0-9_-]{43}\.[A-Za-z0-9%]+; Path=\/; HttpOnly; SameSite=Lax$/);
      const read = await agent.get('/session').expect(200);
      assert.deepEqual(read.body.data, { users });
      assert.equal(read.body.id, stored.body.id);
      assert.deepEqual(setCookieOf(read), [], 'an unchanged session does not re-send its cookie');
    });

    it('removes a key set to null, so the store no longer holds it', async () => {
      const { agent } = agentFor(store.options());
      await agent.put('/keys/users').send({ value: users });
      await agent.put('/keys/theme').send({ value: 'dark' });
      await agent.delete('/keys/users').expect(200);
      const read = await agent.get('/session');
      assert.deepEqual(read.body.data, { theme: 'dark' });
    });

    it('saves a deep mutation of a loaded value (push into an array)', async () => {
      const { agent } = agentFor(store.options());
      await agent.post('/push/list').send({ value: 'a' });
      await agent.post('/push/list').send({ value: 'b' });
      const read = await agent.get('/session');
      assert.deepEqual(read.body.data, { list: ['a', 'b'] });
    });

    it('regenerates: new id, empty data, old id no longer valid', async () => {
      const { app } = createTestApp(store.options());
      const first = await supertest(app).put('/keys/users').send({ value: users });
      const oldCookie = sessionCookieOf(first)!;
      const regenerated = await supertest(app).post('/regenerate').set('Cookie', oldCookie).expect(200);
      assert.equal(regenerated.text, 'Session was regenerated');
      const newCookie = sessionCookieOf(regenerated)!;
      assert.notEqual(newCookie, oldCookie);
      const withNew = await supertest(app).get('/session').set('Cookie', newCookie);
      assert.deepEqual(withNew.body.data, {});
      const withOld = await supertest(app).get('/session').set('Cookie', oldCookie);
      assert.deepEqual(withOld.body.data, {}, 'the old id gets a fresh, empty session');
      assert.notEqual(withOld.body.id, first.body.id);
    });

    it('regenerates with keepData: the data moves to the new id', async () => {
      const { app } = createTestApp(store.options());
      const first = await supertest(app).put('/keys/users').send({ value: users });
      const oldCookie = sessionCookieOf(first)!;
      const regenerated = await supertest(app).post('/regenerate?keep=yes').set('Cookie', oldCookie);
      const newCookie = sessionCookieOf(regenerated)!;
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', newCookie)).body.data, { users });
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', oldCookie)).body.data, {});
    });

    it('destroys: the record is gone and the cookie is cleared', async () => {
      const { app } = createTestApp(store.options());
      const cookie = sessionCookieOf(await supertest(app).put('/keys/users').send({ value: users }))!;
      const destroyed = await supertest(app).post('/destroy').set('Cookie', cookie).expect(200);
      assert.match(setCookieOf(destroyed)[0]!, /^sid=; Path=\/; Expires=Thu, 01 Jan 1970/);
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', cookie)).body.data, {});
    });

    it('keeps flashed data for the next request only', async () => {
      const { agent } = agentFor(store.options());
      await agent.post('/flash/notice').send({ value: 'Saved!' });
      assert.deepEqual((await agent.get('/session')).body.data, { notice: 'Saved!' });
      assert.deepEqual((await agent.get('/session')).body.data, {});
    });

    it('saves before the response headers leave, also when the response streams', async () => {
      const { agent } = agentFor(store.options());
      const streamed = await agent.post('/save-then-stream').expect(200);
      assert.equal(streamed.text, 'part one,part two');
      assert.equal(setCookieOf(streamed).length, 1);
      assert.deepEqual((await agent.get('/session')).body.data, { streamed: true });
    });

    it('treats a forged, unsigned or garbage cookie as no session', async () => {
      const { app } = createTestApp(store.options());
      const cookie = sessionCookieOf(await supertest(app).put('/keys/users').send({ value: users }))!;
      const id = decodeURIComponent(cookie.slice('sid='.length)).slice(2).split('.')[0];
      for (const forged of [
        `sid=${id}`,
        `sid=s%3A${id}.forged`,
        'sid=%E0%A4%A',
        `sid=${'x'.repeat(10_000)}`,
      ]) {
        const response = await supertest(app).get('/session').set('Cookie', forged).expect(200);
        assert.deepEqual(response.body.data, {}, forged.slice(0, 40));
      }
    });

    it('accepts a cookie signed with a retired secret and re-signs it with the current one', async () => {
      const before = createTestApp({
        ...store.options(),
        secret: 'the old secret, long enough for production use',
      });
      const cookie = sessionCookieOf(await supertest(before.app).put('/keys/users').send({ value: users }))!;
      const after = createTestApp({
        store: before.handler.store,
        secret: [
          'the new secret, long enough for production use!',
          'the old secret, long enough for production use',
        ],
      });
      const response = await supertest(after.app).get('/session').set('Cookie', cookie);
      assert.deepEqual(response.body.data, { users });
      const resigned = sessionCookieOf(response)!;
      assert.notEqual(resigned, cookie);
      const again = await supertest(after.app).get('/session').set('Cookie', resigned);
      assert.deepEqual(again.body.data, { users });
    });

    it('expires a session after the idle timeout and removes it', async () => {
      const { agent } = agentFor({ ...store.options(), idleTimeout: 0.2 });
      await agent.put('/keys/users').send({ value: users });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual((await agent.get('/session')).body.data, {});
    });

    it('expires a session after the absolute timeout however active it is, and not before', async () => {
      const { agent } = agentFor({ ...store.options(), absoluteTimeout: 1, touchInterval: 0.01 });
      const beforeCreation = Date.now();
      await agent.put('/keys/users').send({ value: users });
      const afterCreation = Date.now();
      let lastSeenWithData = afterCreation;
      while (Date.now() - afterCreation < 4000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const checked = Date.now();
        const data = (await agent.get('/session')).body.data;
        if (!data.users) break;
        lastSeenWithData = checked;
      }
      const lifetime = lastSeenWithData - afterCreation;
      assert.ok(lifetime <= 1000, `activity kept it alive ${lifetime} ms`);
      assert.ok(Date.now() - beforeCreation >= 1000, 'it expired before the absolute timeout');
    });

    it('sends the cookie on every response with rolling, with a fresh Expires', async () => {
      const { agent } = agentFor({ ...store.options(), rolling: true, cookie: { maxAge: 60_000 } });
      await agent.put('/keys/users').send({ value: users });
      const read = await agent.get('/session');
      assert.match(setCookieOf(read)[0]!, /Expires=/);
    });

    it('stores an untouched new session with saveUninitialized', async () => {
      const { agent } = agentFor({ ...store.options(), saveUninitialized: true });
      const first = await agent.get('/session');
      assert.equal(setCookieOf(first).length, 1);
      assert.equal((await agent.get('/session')).body.id, first.body.id);
    });

    it('refuses a value that cannot survive JSON, naming the key, and keeps the stored data', async () => {
      const { app, handler } = createTestApp(store.options());
      app.get('/bad', (request, response) => {
        try {
          request.session.bad = () => 1;
          response.send('stored');
        } catch (error) {
          response.status(400).send((error as Error).message);
        }
      });
      void handler;
      const agent = supertest.agent(app);
      await agent.put('/keys/users').send({ value: users });
      const refused = await agent.get('/bad').expect(400);
      assert.match(refused.text, /Session key "bad" holds a function/);
      assert.deepEqual((await agent.get('/session')).body.data, { users });
    });

    it('refuses to store data under a reserved name', async () => {
      const { app } = createTestApp(store.options());
      app.get('/reserved', (request, response) => {
        assert.throws(() => {
          request.session.regenerate = 'x' as never;
        }, /"regenerate" is a reserved name/);
        assert.throws(() => {
          (request.session as Record<string, unknown>).id = 'x';
        }, /"id" is a reserved name/);
        response.send('ok');
      });
      await supertest(app).get('/reserved').expect(200);
    });
  });
}
