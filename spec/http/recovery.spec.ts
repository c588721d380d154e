import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import supertest from 'supertest';
import { signSessionId } from '../../src/session/cookie';
import { generateSessionId, storeKeyOf } from '../../src/session/ids';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { storesUnderTest, temporaryDirectory, testSecret, sessionFileStore } from '../helpers/stores';

const cookieFor = (sessionId: string) => `sid=${encodeURIComponent(signSessionId(sessionId, testSecret))}`;

function recordingLogger() {
  const warnings: string[] = [];
  const errors: unknown[] = [];
  return {
    warnings,
    errors,
    logger: {
      warn: (message: string) => warnings.push(message),
      error: (_: string, e?: unknown) => errors.push(e),
    },
  };
}

describe('a session-file-store (express-session store) without the session file', () => {
  it('serves a new session, as express-session does, instead of 503 for ever', async () => {
    const store = sessionFileStore('sfs');
    const { app } = createTestApp({ store });
    const unknownId = generateSessionId();
    const response = await supertest(app).get('/session').set('Cookie', cookieFor(unknownId)).expect(200);
    assert.deepEqual(response.body.data, {});
    const login = await supertest(app)
      .put('/keys/user')
      .set('Cookie', cookieFor(unknownId))
      .send({ value: 's' });
    assert.equal(login.status, 200);
    const again = await supertest(app).get('/session').set('Cookie', sessionCookieOf(login)!).expect(200);
    assert.equal(again.body.data.user, 's');
  });
});

describe('the file store directory', () => {
  it('is made again when it is removed while the app runs', async () => {
    const directory = join(temporaryDirectory('gone'), 'sessions');
    const { app } = createTestApp({ driver: 'file', file: { directory } });
    const agent = supertest.agent(app);
    await agent.put('/keys/user').send({ value: 'first' }).expect(200);
    rmSync(directory, { recursive: true });
    await agent.put('/keys/user').send({ value: 'second' }).expect(200);
    assert.deepEqual((await agent.get('/session')).body.data, { user: 'second' });
  });

  it('is made on a later request when making it failed at first, and the 503 tells no path', async () => {
    const parent = temporaryDirectory('late');
    const directory = join(parent, 'sessions');
    writeFileSync(directory, 'a file where the directory should be (a volume not mounted yet)');
    const { app } = createTestApp({ driver: 'file', file: { directory } });
    const agent = supertest.agent(app);
    const refused = await agent.put('/keys/user').send({ value: 'first' }).expect(503);
    assert.equal(refused.body.message, 'session store unavailable');
    assert.doesNotMatch(refused.text, new RegExp(`${parent}|${process.pid}|ENOTDIR|EEXIST`));
    rmSync(directory);
    await agent.put('/keys/user').send({ value: 'second' }).expect(200);
    assert.deepEqual((await agent.get('/session')).body.data, { user: 'second' });
  });
});

describe('waiting for a file lock', () => {
  /** A logged-in session on a file store with a 500 ms storeTimeout, and the path of its lock file. */
  async function loggedInOnFiles(label: string) {
    const directory = temporaryDirectory(label);
    const { app } = createTestApp({ driver: 'file', file: { directory }, storeTimeout: '500ms' });
    const login = await supertest(app).put('/keys/user').send({ value: 'u' }).expect(200);
    const cookie = sessionCookieOf(login)!;
    const sessionId = decodeURIComponent(cookie.slice(4)).slice(2).split('.')[0]!;
    const lockPath = join(
      directory,
      `${createHash('sha256').update(storeKeyOf(sessionId)).digest('hex')}.lock`,
    );
    return { app, cookie, lockPath };
  }

  it('ends with 503 within storeTimeout when a live process holds the lock, then goes on', async () => {
    const { app, cookie, lockPath } = await loggedInOnFiles('held');
    writeFileSync(lockPath, String(process.ppid));
    const started = Date.now();
    await supertest(app).put('/keys/other').set('Cookie', cookie).send({ value: 1 }).expect(503);
    assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
    rmSync(lockPath);
    await supertest(app).put('/keys/other').set('Cookie', cookie).send({ value: 1 }).expect(200);
  });

  it('ends with 503 within storeTimeout when the lock cannot be removed, and later requests do not queue for ever', async () => {
    const { app, cookie, lockPath } = await loggedInOnFiles('stuck');
    mkdirSync(lockPath);
    writeFileSync(join(lockPath, 'inside'), 'a directory with content cannot be unlinked');
    const started = Date.now();
    const answers = await Promise.all(
      [1, 2, 3].map(() => supertest(app).put('/keys/other').set('Cookie', cookie).send({ value: 1 })),
    );
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [503, 503, 503],
    );
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    rmSync(lockPath, { recursive: true });
    await supertest(app).put('/keys/other').set('Cookie', cookie).send({ value: 1 }).expect(200);
  });
});

describe('a full disk under the file store', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'rcs-full-'));
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
  } catch {
    // reported by the skip below
  }
  after(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it(
    'answers 503 and leaves no lock or temp file behind',
    { skip: mounted ? false : 'cannot mount a small tmpfs here (needs root)' },
    async () => {
      const directory = join(mountPoint, 'sessions');
      const { app } = createTestApp({ driver: 'file', file: { directory } });
      const agent = supertest.agent(app);
      await agent.put('/keys/user').send({ value: 'u' }).expect(200);
      const filler = join(mountPoint, 'filler');
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' });
      } catch {
        // dd stops when the disk is full, which is the point
      }
      await agent
        .put('/keys/other')
        .send({ value: 'x'.repeat(10_000) })
        .expect(503);
      assert.deepEqual(
        readdirSync(directory).filter((name) => !name.endsWith('.json')),
        [],
        'no .lock or .tmp file is left',
      );
      rmSync(filler);
      await agent.put('/keys/other').send({ value: 'y' }).expect(200);
      assert.deepEqual((await agent.get('/session')).body.data, { user: 'u', other: 'y' });
    },
  );
});

const foreignRecords: Array<[string, unknown]> = [
  ['null', null],
  ['a string', 'not a record'],
  [
    'a record whose flash is 5',
    { data: { user: 'x' }, meta: { createdAt: 1, lastSeenAt: Date.now(), flash: 5 } },
  ],
  ['a record whose meta is missing', { data: {} }],
];

for (const store of storesUnderTest) {
  describe(`a corrupt or foreign record on the ${store.name} store`, () => {
    it('counts as no session, with one warning, and the next login works', async () => {
      const { warnings, logger } = recordingLogger();
      const { app, handler } = createTestApp({ ...store.options(), logger });
      const ids = new Map(foreignRecords.map(([label]) => [label, generateSessionId()]));
      const cases: Array<[string, () => Promise<unknown>]> = foreignRecords.map(([label, value]) => [
        label,
        () => handler.store.set(storeKeyOf(ids.get(label)!), value),
      ]);
      const adapter = handler.store.store as { set?: (key: string, value: unknown) => Promise<unknown> };
      if (!store.name.startsWith('sqlite')) {
        ids.set('invalid JSON', generateSessionId());
        cases.push([
          'invalid JSON',
          () => adapter.set!(storeKeyOf(ids.get('invalid JSON')!), '{"value": {no'),
        ]);
      }
      for (const [label, plant] of cases) {
        await plant();
        const cookie = cookieFor(ids.get(label)!);
        for (let request = 0; request < 2; request += 1) {
          const read = await supertest(app).get('/session').set('Cookie', cookie);
          assert.equal(read.status, 200, `${label}: status`);
          if (label !== 'a record whose flash is 5') assert.deepEqual(read.body.data, {}, label);
        }
        const login = await supertest(app).put('/keys/user').set('Cookie', cookie).send({ value: 'u' });
        assert.equal(login.status, 200, `${label}: login`);
      }
      assert.ok(warnings.length >= 1 && warnings.length <= cases.length, warnings.join('\n'));
    });
  });
}

for (const store of storesUnderTest) {
  describe(`flash messages on the ${store.name} store`, () => {
    it('survive a slower request that only aged an older flash: the new one is read once, then gone', async () => {
      const { app } = createTestApp(store.options());
      const agent = supertest.agent(app);
      await agent.post('/flash/old').send({ value: 1 }).expect(200);
      const slow = agent.put('/keys/other?delay=200').send({ value: 'o' }).then();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await agent.post('/flash/fresh').send({ value: 2 }).expect(200);
      await slow;
      assert.equal((await agent.get('/session')).body.data.fresh, 2, 'the new flash is read once');
      assert.equal((await agent.get('/session')).body.data.fresh, undefined, 'and then gone');
    });
  });
}
