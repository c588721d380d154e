import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import supertest from 'supertest';
import { FileStore, MemoryStore, RedisSessionStore } from '../../src';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { redisAnswers, redisUrl, storesUnderTest, temporaryDirectory } from '../helpers/stores';

interface WritingStore {
  apply(...args: Parameters<MemoryStore['apply']>): ReturnType<MemoryStore['apply']>;
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A store whose writes wait a while after they start: a save is then caught between its read and its write. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withSlowWrites<Base extends new (...args: any[]) => WritingStore>(StoreClass: Base) {
  return class SlowWrites extends StoreClass {
    onWrite: (() => void) | undefined;

    override async apply(...args: Parameters<MemoryStore['apply']>): ReturnType<MemoryStore['apply']> {
      await this.slowly();
      return super.apply(...args);
    }

    /** A slowed store never applies at once. */
    applyNow(): undefined {
      return undefined;
    }

    private async slowly(): Promise<void> {
      const announce = this.onWrite;
      this.onWrite = undefined;
      announce?.();
      await pause(150);
    }

    /** Resolves when the next write starts. */
    nextWrite(): Promise<void> {
      return new Promise((resolve) => (this.onWrite = resolve));
    }
  };
}

let redisPrefixes = 0;
const slowStores = [
  { name: 'memory', create: () => new (withSlowWrites(MemoryStore))() },
  {
    name: 'file',
    create: () => new (withSlowWrites(FileStore))({ directory: temporaryDirectory('slow') }),
  },
  ...(redisAnswers()
    ? [
        {
          name: 'redis',
          create: () => {
            redisPrefixes += 1;
            const store = new (withSlowWrites(RedisSessionStore))({
              url: redisUrl,
              prefix: `rcs-test-slow-${process.pid}-${redisPrefixes}`,
            });
            after(async () => {
              await store.clear();
              await store.close();
            });
            return store;
          },
        },
      ]
    : []),
];

async function logIn(app: Parameters<typeof supertest>[0]): Promise<string> {
  return sessionCookieOf(await supertest(app).put('/keys/userId').send({ value: 'u1' }).expect(200))!;
}

for (const slow of slowStores) {
  describe(`a removal on the ${slow.name} store, while a save of the same session is under way`, () => {
    for (const removal of ['destroy', 'regenerate', 'revoke'] as const) {
      it(`stays removed: ${removal} waits for the save, and the save does not bring the session back`, async () => {
        const store = slow.create();
        const { app, handler } = createTestApp({ store, userKey: 'userId' });
        const cookie = await logIn(app);
        const writing = store.nextWrite();
        const save = supertest(app).put('/keys/note').set('Cookie', cookie).send({ value: 'x' }).then();
        await writing;
        if (removal === 'revoke') await handler.revokeUserSessions('u1');
        else await supertest(app).post(`/${removal}`).set('Cookie', cookie).expect(200);
        await save;
        const replayed = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
        assert.deepEqual(replayed.body.data, {}, 'the old cookie no longer logs in');
        assert.deepEqual(await handler.listUserSessions('u1'), []);
      });
    }
  });
}

for (const store of storesUnderTest) {
  describe(`logout and revoke racing saves on the ${store.name} store`, () => {
    const rounds = 40;
    it(`bring no session back in ${rounds} rounds of each`, async () => {
      const { app, handler } = createTestApp({ ...store.options(), userKey: 'userId' });
      let resurrected = 0;
      for (let round = 0; round < rounds * 2; round += 1) {
        const cookie = await logIn(app);
        const saves = [1, 2, 3].map((delay) =>
          supertest(app)
            .put(`/keys/note${delay}?delay=${delay}`)
            .set('Cookie', cookie)
            .send({ value: round })
            .then(),
        );
        const removal =
          round % 2 === 0
            ? supertest(app).post('/destroy').set('Cookie', cookie).then()
            : handler.revokeUserSessions('u1');
        await Promise.all([...saves, removal]);
        const replayed = await supertest(app).get('/session').set('Cookie', cookie);
        if (Object.keys(replayed.body.data).length > 0) resurrected += 1;
      }
      assert.equal(resurrected, 0, `${resurrected} of ${rounds * 2} removed sessions came back`);
      assert.deepEqual(await handler.listUserSessions('u1'), []);
    });
  });
}

describe('the user index on a memory store bounded by max', () => {
  it('is never evicted before the sessions it lists, so revoke still finds them', async () => {
    const { app, handler } = createTestApp({ driver: 'memory', memory: { max: 4 }, userKey: 'userId' });
    const user = supertest.agent(app);
    await user.put('/keys/userId').send({ value: 'u1' }).expect(200);
    await supertest(app).put('/keys/visitor').send({ value: 1 }).expect(200);
    await user.get('/session').expect(200);
    await supertest(app).put('/keys/visitor').send({ value: 2 }).expect(200);
    await supertest(app).put('/keys/visitor').send({ value: 3 }).expect(200);
    assert.equal((await user.get('/session')).body.data.userId, 'u1', 'the session itself is kept');
    assert.equal(await handler.revokeUserSessions('u1'), 1);
    assert.deepEqual((await user.get('/session')).body.data, {});
  });
});
