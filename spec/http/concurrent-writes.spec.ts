import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import expressSession from 'express-session';
import supertest from 'supertest';
import { createTestApp, listen, sessionCookieOf } from '../helpers/app';
import { storesUnderTest, testSecret } from '../helpers/stores';

const concurrentRequests = 50;

/** Starts one session, then sends one request per key at once (each doing a little async work), all with the same cookie; returns the keys stored. */
async function keysAfterConcurrentWrites(app: express.Express): Promise<string[]> {
  const server = await listen(app);
  const cookie = sessionCookieOf(await supertest(server).put('/keys/start').send({ value: 0 }))!;
  await Promise.all(
    Array.from({ length: concurrentRequests }, (_, index) =>
      supertest(server)
        .put(`/keys/key${index}?delay=${index % 10}`)
        .set('Cookie', cookie)
        .send({ value: index })
        .expect(200),
    ),
  );
  const read = await supertest(server).get('/session').set('Cookie', cookie);
  return Object.keys(read.body.data).filter((key) => key.startsWith('key'));
}

describe('concurrent requests of one session that change different keys', () => {
  for (const store of storesUnderTest) {
    it(`lose none of the ${concurrentRequests} keys on the ${store.name} store`, async () => {
      const { app } = createTestApp(store.options());
      const keys = await keysAfterConcurrentWrites(app);
      assert.equal(keys.length, concurrentRequests);
    });
  }

  it('lose keys with express-session, which writes the whole session it loaded (the behaviour we fix)', async (context) => {
    const app = express();
    app.use(express.json());
    app.use(expressSession({ name: 'sid', secret: testSecret, resave: false, saveUninitialized: false }));
    app.get('/session', (request, response) => response.json({ data: request.session }));
    app.put('/keys/:key', (request, response) => {
      (request.session as unknown as Record<string, unknown>)[request.params.key] = request.body.value;
      setTimeout(() => response.json({}), Number(request.query.delay ?? 0));
    });
    const keys = await keysAfterConcurrentWrites(app);
    context.diagnostic(`express-session kept ${keys.length} of ${concurrentRequests} keys`);
    assert.ok(keys.length < concurrentRequests);
  });
});
