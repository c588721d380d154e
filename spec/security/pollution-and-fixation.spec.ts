import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { signSessionId } from '../../src/session/cookie';
import { storeKeyOf } from '../../src/session/ids';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { storesUnderTest, testSecret } from '../helpers/stores';

const pollutingJson =
  '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "safe": 1}';

function assertNotPolluted(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
}

for (const store of storesUnderTest) {
  describe(`prototype pollution and session fixation on the ${store.name} store`, () => {
    it('refuses __proto__, constructor and prototype as session keys when a body is copied into the session', async () => {
      const { app } = createTestApp(store.options());
      app.post('/copy', (request, response) => {
        try {
          Object.assign(request.session, JSON.parse(pollutingJson));
          response.send('copied');
        } catch (error) {
          response.status(400).send((error as Error).message);
        }
      });
      const response = await supertest(app).post('/copy').expect(400);
      assert.match(response.text, /"__proto__" is a reserved name/);
      assertNotPolluted();
    });

    it('stores nested __proto__ keys as plain data and loads them without polluting', async () => {
      const { app } = createTestApp(store.options());
      const agent = supertest.agent(app);
      await agent
        .put('/keys/profile')
        .set('Content-Type', 'application/json')
        .send(`{"value": ${pollutingJson}}`);
      const read = await agent.get('/session').expect(200);
      assert.equal(read.body.data.profile.safe, 1);
      assertNotPolluted();
    });

    it('drops polluting top-level keys found in a stored record', async () => {
      const { app, handler } = createTestApp(store.options());
      const id = 'an-id-whose-record-was-tampered-with-in-the-store';
      const now = Date.now();
      const tampered = JSON.parse(
        `{"data": ${pollutingJson}, "meta": {"createdAt": ${now}, "lastSeenAt": ${now}}}`,
      );
      await handler.store.set(storeKeyOf(id), tampered, 60_000);
      const cookie = `sid=${encodeURIComponent(signSessionId(id, testSecret))}`;
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(read.body.data, { safe: 1 });
      assertNotPolluted();
    });

    it('never adopts an id the client chose, even one signed with the secret', async () => {
      const { app } = createTestApp(store.options());
      const chosen = 'attacker-chosen-id';
      for (const cookie of [
        `sid=${chosen}`,
        `sid=${encodeURIComponent(signSessionId(chosen, testSecret))}`,
      ]) {
        const response = await supertest(app)
          .put('/keys/user')
          .set('Cookie', cookie)
          .send({ value: 'victim' });
        assert.notEqual(response.body.id, chosen);
        assert.notEqual(sessionCookieOf(response), undefined);
        assert.doesNotMatch(sessionCookieOf(response)!, new RegExp(chosen));
      }
    });

    it('invalidates the old id as soon as regenerate runs', async () => {
      const { app } = createTestApp(store.options());
      const oldCookie = sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'Sharon' }))!;
      await supertest(app).post('/regenerate?keep=yes').set('Cookie', oldCookie).expect(200);
      const withOld = await supertest(app).get('/session').set('Cookie', oldCookie).expect(200);
      assert.deepEqual(withOld.body.data, {});
    });
  });
}
