import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { SessionConfigError, session } from '../../src';
import { createTestApp, sessionCookieOf, setCookieOf } from '../helpers/app';
import { storesUnderTest, testSecret } from '../helpers/stores';

for (const store of storesUnderTest) {
  describe(`a session id in a request header on the ${store.name} store`, () => {
    it('is sent back in that header when the session is created, and carries the session with no cookie', async () => {
      const { app } = createTestApp({ ...store.options(), header: 'X-Session-Id' });
      const created = await supertest(app).put('/keys/user').send({ value: 'Ann' }).expect(200);
      const sessionHeader = created.headers['x-session-id'] as string;
      assert.match(sessionHeader, /^s:.+\..+$/, 'signed as the cookie is');
      assert.equal(decodeURIComponent(sessionCookieOf(created)!.slice(4)), sessionHeader, 'cookies too');
      const read = await supertest(app).get('/session').set('X-Session-Id', sessionHeader).expect(200);
      assert.deepEqual(read.body.data, { user: 'Ann' });
      assert.equal(read.headers['x-session-id'], undefined, 'the client holds it already');
      const written = await supertest(app)
        .put('/keys/cart')
        .set('X-Session-Id', sessionHeader)
        .send({ value: [1] })
        .expect(200);
      assert.deepEqual(setCookieOf(written), [], 'no cookie for a client that uses the header');
      const cookieClient = await supertest(app).get('/session').set('Cookie', sessionCookieOf(created)!);
      assert.deepEqual(cookieClient.body.data, { user: 'Ann', cart: [1] }, 'one session, either way');
    });

    it('with cookie: false sends no cookie; regenerate sends the new id; destroy sends the header empty', async () => {
      const { app } = createTestApp({ ...store.options(), header: { name: 'X-Session-Id', cookie: false } });
      const created = await supertest(app).put('/keys/user').send({ value: 'Bob' }).expect(200);
      assert.deepEqual(setCookieOf(created), []);
      const first = created.headers['x-session-id'] as string;
      const regenerated = await supertest(app)
        .post('/regenerate?keep=yes')
        .set('X-Session-Id', first)
        .expect(200);
      const second = regenerated.headers['x-session-id'] as string;
      assert.ok(second && second !== first);
      assert.deepEqual(setCookieOf(regenerated), []);
      assert.deepEqual((await supertest(app).get('/session').set('X-Session-Id', first)).body.data, {});
      assert.deepEqual((await supertest(app).get('/session').set('X-Session-Id', second)).body.data, {
        user: 'Bob',
      });
      const destroyed = await supertest(app).post('/destroy').set('X-Session-Id', second).expect(200);
      assert.equal(destroyed.headers['x-session-id'], '');
      assert.deepEqual((await supertest(app).get('/session').set('X-Session-Id', second)).body.data, {});
    });

    it('treats a header whose signature fails as no session', async () => {
      const { app } = createTestApp({ ...store.options(), header: 'X-Session-Id' });
      const created = await supertest(app).put('/keys/user').send({ value: 'Cy' });
      const forged = `${(created.headers['x-session-id'] as string).slice(0, -3)}AAA`;
      assert.deepEqual((await supertest(app).get('/session').set('X-Session-Id', forged)).body.data, {});
    });
  });
}

describe('option header', () => {
  it('must be a header name, or { name, cookie }', () => {
    for (const header of ['', 'X Session', { name: 'X-Session-Id', cookie: 'no' }, 42]) {
      assert.throws(
        () => session({ secret: testSecret, driver: 'memory', header: header as string }),
        SessionConfigError,
      );
    }
  });
});
