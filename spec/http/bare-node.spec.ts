import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { session } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { SwitchableStore } from '../helpers/switchable-store';
import { quietLogger, testSecret } from '../helpers/stores';

describe('session() on a bare Node http server', () => {
  const store = new SwitchableStore();
  const handle = session({ secret: testSecret, store, logger: quietLogger });
  const server = createServer((request, response) => {
    handle(request, response, (error) => {
      if (error) throw error;
      const current = (request as typeof request & { session: Record<string, number> }).session;
      current.visits = (current.visits ?? 0) + 1;
      response.end(String(current.visits));
    });
  });
  const failingServer = createServer((request, response) => handle(request, response));

  it('loads and saves the session without Express', async () => {
    const first = await supertest(server).get('/');
    assert.equal(first.text, '1');
    const cookie = sessionCookieOf(first)!;
    assert.equal((await supertest(server).get('/').set('Cookie', cookie)).text, '2');
  });

  it("leaves Node's own request and response prototypes alone", async () => {
    await supertest(server).get('/');
    for (const property of ['session', 'sessionID', 'sessionStore']) {
      assert.equal(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, property), undefined, property);
    }
    assert.equal(
      Object.getOwnPropertyDescriptor(ServerResponse.prototype, 'headersSent'),
      undefined,
      'headersSent stays where Node defines it (OutgoingMessage.prototype)',
    );
  });

  it('answers a store failure itself with a JSON 503 when no next handler is given', async () => {
    const cookie = sessionCookieOf(await supertest(server).get('/'))!;
    store.mode = 'failing';
    const response = await supertest(failingServer).get('/').set('Cookie', cookie).expect(503);
    store.mode = 'up';
    assert.equal(response.body.name, 'SessionStoreUnavailableError');
  });
});
