import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { sessionCookieOf, setCookieOf } from '../helpers/app';
import { serverChildOfSuite } from '../helpers/processes';
import { sharedStoresUnderTest, memoryStore } from '../helpers/stores';

/** Each slip an app can make, and what the client gets for it; the process must serve the next request. */
const slips: Array<{ route: string; status: number; body?: RegExp }> = [
  { route: 'end-with-object', status: 500 },
  { route: 'end-with-object-after-a-change', status: 500 },
  { route: 'status-1000', status: 500 },
  { route: 'cookie-max-age-nan', status: 500, body: /cookie\.maxAge/ },
  { route: 'cycle-after-set', status: 500, body: /cyclic.*circular/ },
  { route: 'bigint-after-set', status: 500, body: /holder.*BigInt/ },
];

for (const store of [memoryStore, ...sharedStoresUnderTest]) {
  describe(`an app process on the ${store.name} store`, () => {
    const serverProcess = serverChildOfSuite(store.options(), 'slips-server');
    it('answers every slip of the app with an error and goes on serving', async () => {
      const server = await serverProcess();
      const login = await supertest(server.url).put('/keys/user').send({ value: 'sharon' }).expect(200);
      const cookie = sessionCookieOf(login)!;
      for (const slip of slips) {
        const response = await supertest(server.url).get(`/slip/${slip.route}`).set('Cookie', cookie);
        assert.equal(response.status, slip.status, `${slip.route}: status`);
        if (slip.body) assert.match(response.text, slip.body, `${slip.route}: the error names the key`);
        assert.equal(server.child.exitCode, null, `${slip.route}: the process is alive`);
        const next = await supertest(server.url).get('/session').set('Cookie', cookie).expect(200);
        assert.equal(next.body.data.user, 'sharon', `${slip.route}: the next request is served`);
      }
    });

    it('sends the session cookie beside a Set-Cookie given to writeHead, as an object or an array', async () => {
      const server = await serverProcess();
      for (const route of ['write-head-with-cookie', 'write-head-with-cookie-array']) {
        const agent = supertest.agent(server.url);
        const response = await agent.get(`/slip/${route}`).expect(200);
        const cookies = setCookieOf(response).map((line) => line.split('=')[0]);
        assert.deepEqual(cookies.sort(), ['flash', 'sid'], route);
        assert.equal((await agent.get('/session')).body.data.user, 'sharon', `${route}: the login holds`);
      }
    });
  });
}
