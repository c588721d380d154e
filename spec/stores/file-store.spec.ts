import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStore } from '../../src';
import type { SessionChange } from '../../src';
import { temporaryDirectory } from '../helpers/stores';
import { deadOwnerToken, lockPathOf } from '../helpers/file-locks';

const meta = { createdAt: 1, lastSeenAt: 2 };
const inAnHour = () => Date.now() + 3_600_000;
const created = (set: Record<string, string> = {}): SessionChange => ({
  set,
  removed: [],
  meta,
  create: true,
});
describe('FileStore', () => {
  it('keeps one file per key, named by a hash, never by the key', async () => {
    const directory = temporaryDirectory('names');
    const store = new FileStore({ directory });
    await store.apply('../../etc/passwd', created({ a: '1' }), inAnHour());
    await store.apply('second', created(), inAnHour());
    const names = readdirSync(directory);
    assert.equal(names.length, 2);
    for (const name of names) assert.match(name, /^[0-9a-f]{64}\.json$/);
    assert.ok(await store.read('../../etc/passwd'));
  });

  it('sees a write made through another instance on the same directory', async () => {
    const directory = temporaryDirectory('shared');
    const writer = new FileStore({ directory });
    const reader = new FileStore({ directory });
    assert.equal(await reader.read('key'), undefined);
    await writer.apply('key', created({ n: '1' }), inAnHour());
    assert.equal(((await reader.read('key')) as unknown as { data: { n: number } }).data.n, 1);
  });

  it('ignores and reports once a file it cannot parse', async () => {
    const directory = temporaryDirectory('corrupt');
    const store = new FileStore({ directory });
    const warnings: string[] = [];
    store.on('warning', (message: string) => warnings.push(message));
    await store.apply('key', created(), inAnHour());
    const [name] = readdirSync(directory);
    writeFileSync(join(directory, name!), '{"key": "ke');
    assert.equal(await store.read('key'), undefined);
    assert.equal(await store.read('key'), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot be parsed/);
  });

  it('sweeps expired files and leaves live ones', async () => {
    const directory = temporaryDirectory('sweep');
    const store = new FileStore({ directory });
    await store.apply('short', created(), Date.now() + 20);
    await store.apply('long', created(), inAnHour());
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(await store.sweep(), 1);
    assert.equal(readdirSync(directory).length, 1);
    assert.ok(await store.read('long'));
  });

  it('writes whole files only: no temp file is left and every file parses after many concurrent writes', async () => {
    const directory = temporaryDirectory('atomic');
    const store = new FileStore({ directory });
    await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        store.apply(
          `key${index % 5}`,
          { ...created({ v: JSON.stringify('x'.repeat(index * 50)) }), replace: true },
          inAnHour(),
        ),
      ),
    );
    const names = readdirSync(directory);
    assert.equal(names.length, 5);
    for (const name of names) JSON.parse(readFileSync(join(directory, name), 'utf8'));
  });

  it('runs locked tasks of one key one at a time', async () => {
    const store = new FileStore({ directory: temporaryDirectory('lock') });
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        store.withLock('key', async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running -= 1;
        }),
      ),
    );
    assert.equal(most, 1);
  });

  it('locks with a symbolic link naming its owner token (pid space, pid, random), removed when released', async () => {
    const directory = temporaryDirectory('symlink-lock');
    const store = new FileStore({ directory, lockTimeoutMs: 2000 });
    await store.withLock('s', async () => {
      const token = readlinkSync(lockPathOf(directory, 's'));
      assert.match(token, new RegExp(`^[0-9a-f]{12}\\.${process.pid}\\.[0-9a-f]{12}-[0-9a-z]+$`));
    });
    assert.deepEqual(readdirSync(directory), []);
  });

  it('takes over at once a lock whose owner is gone, and leaves no claim behind', async () => {
    const directory = temporaryDirectory('dead-owner');
    const store = new FileStore({ directory, lockTimeoutMs: 2000 });
    await store.withLock('warm-up', async () => undefined);
    symlinkSync(deadOwnerToken(), lockPathOf(directory, 's'));
    const started = Date.now();
    await store.withLock('s', async () => undefined);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.deepEqual(readdirSync(directory), []);
  });

  it('waits for a lock of an owner it cannot check (another container) until the lock is stale', async () => {
    const directory = temporaryDirectory('foreign-owner');
    const store = new FileStore({ directory, lockTimeoutMs: 3000, staleLockMs: 300 });
    await store.withLock('warm-up', async () => undefined);
    symlinkSync('0123456789ab.1.000000000000', lockPathOf(directory, 's'));
    const started = Date.now();
    await store.withLock('s', async () => undefined);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 2000, `waited ${waited} ms`);
  });
});
