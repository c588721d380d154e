import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { sessionCookieOf } from '../helpers/app';
import { serverChildOfSuite } from '../helpers/processes';
import { memoryStore, sharedStoresUnderTest } from '../helpers/stores';

const routes = ['after-a-change', 'after-a-read', 'untouched'];

for (const store of [memoryStore, ...sharedStoresUnderTest]) {
  describe(`an app process on the ${store.name} store whose route calls response.end() twice`, () => {
    const serverProcess = serverChildOfSuite(store.options(), 'double-end-server');
    for (const route of routes) {
      for (const withCookie of [false, true]) {
        const who = withCookie ? 'with the cookie of a stored session' : 'without a cookie';
        it(`answers the first body and goes on serving: ${route.replaceAll('-', ' ')}, ${who}`, async () => {
          const server = await serverProcess();
          let cookie: string | undefined;
          if (withCookie) {
            const login = await supertest(server.url).put('/keys/user').send({ value: 'sharon' }).expect(200);
            cookie = sessionCookieOf(login)!;
          }
          const request = supertest(server.url).get(`/end-twice/${route}`);
          if (cookie) request.set('Cookie', cookie);
          const response = await request;
          assert.equal(response.status, 200);
          assert.equal(response.text, 'a', 'the client gets the first body');
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal(server.child.exitCode, null, 'the process is alive');
          const next = supertest(server.url).get('/session');
          if (cookie) next.set('Cookie', cookie);
          const answer = await next.expect(200);
          if (cookie) assert.equal(answer.body.data.user, 'sharon', 'the stored session is still there');
        });
      }
    }
  });
}
