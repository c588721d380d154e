import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { storeKeyOf } from '../../src/session/ids';
import { createTestApp, sessionCookieOf, setCookieOf } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

for (const store of storesUnderTest) {
  describe(`limits and unset on the ${store.name} store`, () => {
    it('refuses a save over maxSize with 413 naming size and limit, and keeps the old record', async () => {
      const { app } = createTestApp({ ...store.options(), maxSize: 1000 });
      const agent = supertest.agent(app);
      await agent.put('/keys/small').send({ value: 'x' }).expect(200);
      const refused = await agent
        .put('/keys/big')
        .send({ value: 'y'.repeat(2000) })
        .expect(413);
      assert.equal(refused.body.name, 'SessionTooLargeError');
      assert.match(refused.body.message, /is \d+ bytes of JSON, over the maxSize limit of 1000 bytes/);
      assert.deepEqual((await agent.get('/session')).body.data, { small: 'x' });
    });

    it("destroys the stored session when request.session is deleted, with unset: 'destroy'", async () => {
      const { app } = createTestApp({ ...store.options(), unset: 'destroy' });
      app.get('/unset', (request, response) => {
        delete (request as { session?: unknown }).session;
        response.send('unset');
      });
      const cookie = sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'Sharon' }))!;
      const unset = await supertest(app).get('/unset').set('Cookie', cookie).expect(200);
      assert.match(setCookieOf(unset)[0]!, /^sid=;/);
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', cookie)).body.data, {});
    });

    it("keeps the stored session when request.session is deleted, with unset: 'keep'", async () => {
      const { app } = createTestApp(store.options());
      app.get('/unset', (request, response) => {
        delete (request as { session?: unknown }).session;
        response.send('unset');
      });
      const cookie = sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'Sharon' }))!;
      await supertest(app).get('/unset').set('Cookie', cookie).expect(200);
      assert.deepEqual((await supertest(app).get('/session').set('Cookie', cookie)).body.data, {
        user: 'Sharon',
      });
    });

    it('reloads and saves explicitly, and the explicit save is visible before the response ends', async () => {
      const { app, handler } = createTestApp(store.options());
      app.get('/explicit', async (request, response) => {
        request.session.counter = 1;
        await request.session.save();
        const stored = await handler.store.get(storeKeyOf(request.sessionID));
        request.session.counter = 2;
        await request.session.reload();
        response.json({ storedBeforeEnd: stored !== undefined, afterReload: request.session.counter });
      });
      const response = await supertest(app).get('/explicit').expect(200);
      assert.deepEqual(response.body, { storedBeforeEnd: true, afterReload: 1 });
      assert.equal(setCookieOf(response).length, 1);
    });
  });
}
