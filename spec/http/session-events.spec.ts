import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionEvent, SessionEventName, SessionOptions } from '../../src';
import { MemoryStore } from '../../src';
import { storeKeyOf } from '../../src/session/ids';
import { agentFor, sessionCookieOf } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

const eventNames: SessionEventName[] = [
  'created',
  'regenerated',
  'destroyed',
  'expired',
  'revoked',
  'rejected',
];

/** A test app whose handler's events are all recorded, with their names. */
function recordedApp(options: SessionOptions) {
  const errors: unknown[] = [];
  const logger = { warn: () => undefined, error: (_message: string, error?: unknown) => errors.push(error) };
  const { agent, app, handler } = agentFor({ ...options, logger });
  const events: Array<SessionEvent & { name: SessionEventName }> = [];
  for (const name of eventNames)
    handler.events.on(name, (event: SessionEvent) => events.push({ name, ...event }));
  return { agent, app, handler, events, errors };
}

const idOf = (body: { id: string }) => storeKeyOf(body.id);
const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

for (const store of storesUnderTest) {
  describe(`session lifecycle events on the ${store.name} store`, () => {
    it('created, regenerated and destroyed, each with the at-rest id, the user, a reason and a time', async () => {
      const { agent, events } = recordedApp({ ...store.options(), userKey: 'user' });
      const created = await agent.put('/keys/user').send({ value: 'ann' }).expect(200);
      const firstId = idOf(created.body);
      await agent.post('/regenerate?keep=yes').expect(200);
      const { body } = await agent.get('/session').expect(200);
      await agent.post('/destroy').expect(200);
      assert.deepEqual(
        events.map(({ name, id, previousId, user, reason }) => ({ name, id, previousId, user, reason })),
        [
          { name: 'created', id: firstId, previousId: undefined, user: 'ann', reason: 'new' },
          { name: 'regenerated', id: idOf(body), previousId: firstId, user: 'ann', reason: 'regenerate' },
          { name: 'destroyed', id: idOf(body), previousId: undefined, user: 'ann', reason: 'destroy' },
        ],
      );
      for (const event of events) {
        assert.ok(event.time instanceof Date && Date.now() - event.time.valueOf() < 10_000);
        assert.doesNotMatch(JSON.stringify(event), new RegExp(created.body.id), 'never the raw id');
      }
    });

    it('regenerated, as passport signs in: told once the new session is stored, with the user it then holds', async () => {
      const { agent, app, events } = recordedApp({ ...store.options(), userKey: 'user' });
      app.post('/sign-in', (request, response) => {
        request.session!.regenerate(() => {
          request.session!.user = 'ann';
          request.session!.save(() => response.json({ id: request.sessionID }));
        });
      });
      const visit = await agent.put('/keys/visits').send({ value: 1 }).expect(200);
      const signIn = await agent.post('/sign-in').expect(200);
      await agent.post('/regenerate').expect(200);
      const regenerated = events.filter((event) => event.name === 'regenerated');
      assert.deepEqual(
        regenerated.map(({ id, previousId, user }) => ({ id, previousId, user })),
        [
          { id: idOf(signIn.body), previousId: idOf(visit.body), user: 'ann' },
          // a regenerate whose new session stays empty, so is never stored, is told at the end, with no user
          { id: regenerated[1]?.id, previousId: idOf(signIn.body), user: undefined },
        ],
      );
      assert.notEqual(regenerated[1]?.id, undefined);
    });

    it('expired, with idle as the reason, when a request brings a session past its idle timeout', async () => {
      // The store keeps a session as long as the writer's idle timeout; the reader's shorter one finds it expired.
      const shared = store.name === 'memory' ? { store: new MemoryStore() } : store.options();
      const writer = recordedApp({ ...shared, idleTimeout: 60 });
      const reader = recordedApp({ ...shared, idleTimeout: 1 });
      const login = await writer.agent.put('/keys/user').send({ value: 'ann' }).expect(200);
      await pause(1100);
      await supertest(reader.app).get('/session').set('Cookie', sessionCookieOf(login)!).expect(200);
      const expired = reader.events.filter((event) => event.name === 'expired');
      assert.deepEqual(
        expired.map(({ id, reason }) => ({ id, reason })),
        [{ id: idOf(login.body), reason: 'idle' }],
      );
    });

    it('revoked, for each session revokeUserSessions removes, with the user; rejected, for a forged cookie', async () => {
      const { app, handler, events } = recordedApp({ ...store.options(), userKey: 'user' });
      const phone = await supertest(app).put('/keys/user').send({ value: 'bob' }).expect(200);
      const laptop = await supertest(app).put('/keys/user').send({ value: 'bob' }).expect(200);
      assert.equal(await handler.revokeUserSessions('bob'), 2);
      const revoked = events.filter((event) => event.name === 'revoked');
      assert.deepEqual(
        revoked
          .map(({ id, user, reason }) => ({ id, user, reason }))
          .sort((a, b) => (a.id! < b.id! ? -1 : 1)),
        [idOf(phone.body), idOf(laptop.body)].sort().map((id) => ({ id, user: 'bob', reason: 'revoke' })),
      );
      await supertest(app).get('/session').set('Cookie', 'sid=s%3Aforged.signature').expect(200);
      const rejected = events.filter((event) => event.name === 'rejected');
      assert.deepEqual(
        rejected.map(({ id, reason }) => ({ id, reason })),
        [{ id: undefined, reason: 'signature' }],
      );
    });

    it('a listener that throws, or rejects, is logged and never fails the request', async () => {
      const { agent, handler, errors } = recordedApp(store.options());
      handler.events.on('created', () => {
        throw new Error('the audit log is down');
      });
      handler.events.on('created', async () => {
        throw new Error('the metrics endpoint is down');
      });
      await agent.put('/keys/user').send({ value: 'ann' }).expect(200);
      assert.equal((await agent.get('/session').expect(200)).body.data.user, 'ann');
      await pause(10);
      assert.deepEqual(
        errors.map((error) => (error as Error).message),
        ['the audit log is down', 'the metrics endpoint is down'],
      );
    });
  });
}
