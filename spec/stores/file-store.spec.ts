import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { Keyv } from 'keyv';
import { FileStore } from '../../src';
import { nodeTestAsVitest } from '../helpers/keyv-suite';
import { temporaryDirectory } from '../helpers/stores';

type SuiteKeyv = Parameters<typeof keyvTestSuite>[1];

describe('FileStore passes @keyv/test-suite', () => {
  const directory = temporaryDirectory('suite');
  const store = () => new FileStore({ directory });
  keyvTestSuite(nodeTestAsVitest as never, Keyv as unknown as SuiteKeyv, store as never);
  keyvIteratorTests(nodeTestAsVitest as never, Keyv as unknown as SuiteKeyv, store as never);
});

describe('FileStore', () => {
  it('keeps one file per key, named by a hash, never by the key', async () => {
    const directory = temporaryDirectory('names');
    const keyv = new Keyv({ store: new FileStore({ directory }) });
    await keyv.set('../../etc/passwd', 'value');
    await keyv.set('second', 'value');
    const names = readdirSync(directory);
    assert.equal(names.length, 2);
    for (const name of names) assert.match(name, /^[0-9a-f]{64}\.json$/);
    assert.equal(await keyv.get('../../etc/passwd'), 'value');
  });

  it('sees a write made through another instance on the same directory', async () => {
    const directory = temporaryDirectory('shared');
    const writer = new Keyv({ store: new FileStore({ directory }) });
    const reader = new Keyv({ store: new FileStore({ directory }) });
    await reader.get('key');
    await writer.set('key', { n: 1 });
    assert.deepEqual(await reader.get('key'), { n: 1 });
  });

  it('ignores and reports once a file it cannot parse', async () => {
    const directory = temporaryDirectory('corrupt');
    const adapter = new FileStore({ directory });
    const warnings: string[] = [];
    adapter.on('warning', (message: string) => warnings.push(message));
    const keyv = new Keyv({ store: adapter });
    await keyv.set('key', 'value');
    const [name] = readdirSync(directory);
    writeFileSync(join(directory, name!), '{"key": "ke');
    assert.equal(await keyv.get('key'), undefined);
    assert.equal(await keyv.get('key'), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot be parsed/);
  });

  it('sweeps expired files and leaves live ones', async () => {
    const directory = temporaryDirectory('sweep');
    const adapter = new FileStore({ directory });
    const keyv = new Keyv({ store: adapter });
    await keyv.set('short', 'value', 20);
    await keyv.set('long', 'value', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(await adapter.sweep(), 1);
    assert.equal(readdirSync(directory).length, 1);
    assert.equal(await keyv.get('long'), 'value');
  });

  it('writes whole files only: no temp file is left and every file parses after many concurrent writes', async () => {
    const directory = temporaryDirectory('atomic');
    const keyv = new Keyv({ store: new FileStore({ directory }) });
    await Promise.all(
      Array.from({ length: 200 }, (_, index) => keyv.set(`key${index % 5}`, 'x'.repeat(index * 50))),
    );
    const names = readdirSync(directory);
    assert.equal(names.length, 5);
    for (const name of names) JSON.parse(readFileSync(join(directory, name), 'utf8'));
  });

  it('runs locked tasks of one key one at a time', async () => {
    const adapter = new FileStore({ directory: temporaryDirectory('lock') });
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        adapter.withLock('key', async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running -= 1;
        }),
      ),
    );
    assert.equal(most, 1);
  });

  const meta = { createdAt: 1, lastSeenAt: 2 };
  const inAnHour = () => Date.now() + 3_600_000;

  it("applies a change under the session's lock, and answers 'gone' for a session that is not stored", async () => {
    const adapter = new FileStore({ directory: temporaryDirectory('apply') });
    const create = { set: { a: '1', b: '2' }, removed: [], meta, create: true };
    assert.equal(await adapter.applySession('s', create, inAnHour()), 'saved');
    const change = { set: { c: '[3]' }, removed: ['a'], meta, create: false };
    assert.equal(await adapter.applySession('s', change, inAnHour()), 'saved');
    const record = await adapter.readSession('s');
    assert.deepEqual({ ...(record as { data: object }).data }, { b: 2, c: [3] });
    await adapter.removeSession('s');
    assert.equal(await adapter.applySession('s', change, inAnHour()), 'gone');
    assert.equal(await adapter.readSession('s'), undefined);
  });

  it('locks with a symbolic link naming its pid, and takes over one whose owner is gone', async () => {
    const directory = temporaryDirectory('symlink-lock');
    const adapter = new FileStore({ directory, lockTimeoutMs: 2000 });
    await adapter.withLock('s', async () => {
      const [lock] = readdirSync(directory).filter((name) => name.endsWith('.lock'));
      assert.equal(readlinkSync(join(directory, lock!)), String(process.pid));
    });
    assert.deepEqual(readdirSync(directory), []);
    const deadOwner = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    const lockPath = join(directory, `${createHash('sha256').update('s').digest('hex')}.lock`);
    symlinkSync(String(deadOwner), lockPath);
    const started = Date.now();
    await adapter.withLock('s', async () => undefined);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });
});
