import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionEvent, SessionStore } from '../../src';
import { FileStore, MemoryStore, SessionConfigError, session } from '../../src';
import { storeKeyOf } from '../../src/session/ids';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { sessionStoreFor } from '../../src/stores/create';
import {
  postgresAnswers,
  postgresStore,
  redisAnswers,
  redisStoreForTest,
  testSecret,
} from '../helpers/stores';

interface InnerStore {
  name: string;
  make(): SessionStore;
  /** Every byte the store keeps, where it is readable from outside (files). */
  rawText?(): string;
}

function fileStoreForTest(): InnerStore {
  const directory = mkdtempSync(join(tmpdir(), 'rcs-sealed-'));
  after(() => rmSync(directory, { recursive: true, force: true }));
  const rawText = () =>
    readdirSync(directory, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
      .join('\n');
  return { name: 'file', make: () => new FileStore({ directory }), rawText };
}

function closedAfter(store: SessionStore): SessionStore {
  after(() => store.close());
  return store;
}

const innerStores: InnerStore[] = [
  { name: 'memory', make: () => new MemoryStore() },
  fileStoreForTest(),
  ...(redisAnswers() ? [{ name: 'redis', make: () => redisStoreForTest() }] : []),
  ...(postgresAnswers()
    ? [{ name: 'postgres', make: () => closedAfter(sessionStoreFor(postgresStore.options())) }]
    : []),
];

const keyA = randomBytes(32);
const keyB = 'a passphrase of at least thirty-two characters';

for (const inner of innerStores) {
  describe(`encryption at rest on the ${inner.name} store`, () => {
    it('stores no session data in the clear, and serves it back', async () => {
      const store = inner.make();
      const { app } = createTestApp({ store, encryption: { keys: [keyA] } });
      const login = await supertest(app).put('/keys/user').send({ value: 'Sharon Secret' }).expect(200);
      const cookie = sessionCookieOf(login)!;
      await supertest(app).put('/keys/card').set('Cookie', cookie).send({ value: '4111 1111' }).expect(200);
      const { body } = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(body.data, { user: 'Sharon Secret', card: '4111 1111' });
      const stored = await store.read(storeKeyOf(body.id));
      const storedText = JSON.stringify(stored);
      assert.doesNotMatch(storedText, /Sharon|4111 1111/);
      assert.match(storedText, /rcs1\./);
      if (inner.rawText) assert.doesNotMatch(inner.rawText(), /Sharon|4111 1111/);
    });

    it('keeps per-field writes: concurrent requests changing different keys both stay', async () => {
      const { app } = createTestApp({ store: inner.make(), encryption: { keys: [keyA] } });
      const cookie = sessionCookieOf(await supertest(app).put('/keys/user').send({ value: 'Ann' }))!;
      await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          supertest(app)
            .put(`/keys/k${index}?delay=${index % 3}`)
            .set('Cookie', cookie)
            .send({ value: index }),
        ),
      );
      const { body } = await supertest(app).get('/session').set('Cookie', cookie);
      assert.equal(Object.keys(body.data).length, 11);
    });

    it('opens what older keys sealed, seals new writes with the first key; a record that does not open is no session', async () => {
      const store = inner.make();
      const old = createTestApp({
        store,
        encryption: { keys: [keyA] },
        logger: { warn: () => {}, error: () => {} },
      });
      const cookie = sessionCookieOf(await supertest(old.app).put('/keys/user').send({ value: 'Ann' }))!;
      const rotated = createTestApp({ store, encryption: { keys: [keyB, keyA] } });
      const { body } = await supertest(rotated.app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(body.data, { user: 'Ann' });
      await supertest(rotated.app)
        .put('/keys/user')
        .set('Cookie', cookie)
        .send({ value: 'Ann B' })
        .expect(200);
      const onlyNew = createTestApp({ store, encryption: { keys: [keyB] } });
      assert.deepEqual((await supertest(onlyNew.app).get('/session').set('Cookie', cookie)).body.data, {
        user: 'Ann B',
      });
      const withoutKeys = createTestApp({ store, encryption: { keys: [randomBytes(32)] } });
      const rejected: SessionEvent[] = [];
      withoutKeys.handler.events.on('rejected', (event: SessionEvent) => rejected.push(event));
      assert.deepEqual(
        (await supertest(withoutKeys.app).get('/session').set('Cookie', cookie)).body.data,
        {},
      );
      assert.deepEqual(
        rejected.map(({ reason }) => reason),
        ['unreadable'],
      );
    });

    it('does not open a sealed field copied into another session', async () => {
      const store = inner.make();
      const { app } = createTestApp({ store, encryption: { keys: [keyA] } });
      const admin = await supertest(app).put('/keys/role').send({ value: 'admin' });
      const guest = await supertest(app).put('/keys/role').send({ value: 'guest' });
      const adminRecord = (await store.read(storeKeyOf(admin.body.id))) as { data: Record<string, unknown> };
      await store.apply(
        storeKeyOf(guest.body.id),
        {
          set: { role: JSON.stringify(adminRecord.data.role) },
          removed: [],
          meta: { createdAt: Date.now(), lastSeenAt: Date.now() },
          create: false,
        },
        Date.now() + 60_000,
      );
      const { body } = await supertest(app).get('/session').set('Cookie', sessionCookieOf(guest)!);
      assert.deepEqual(body.data, {}, 'the copied field does not open: no session');
    });
  });
}

describe('encryption options', () => {
  it('needs one key or more, each 32 bytes or a passphrase of 32 characters or more', () => {
    for (const keys of [[], [randomBytes(16)], ['short'], 'not a list']) {
      assert.throws(
        () => session({ secret: testSecret, driver: 'memory', encryption: { keys: keys as string[] } }),
        SessionConfigError,
      );
    }
  });
});
