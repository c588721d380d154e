import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import type { FileStore, MemoryStore } from '../../src';
import { createTestApp, listen } from '../helpers/app';
import { temporaryDirectory } from '../helpers/stores';

async function createSessions(app: Parameters<typeof listen>[0], count: number): Promise<void> {
  const server = await listen(app);
  for (let batch = 0; batch < count; batch += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - batch) }, () =>
        supertest(server).put('/keys/visitor').send({ value: batch }).expect(200),
      ),
    );
  }
}

async function waitUntil(condition: () => boolean, limitMs: number): Promise<void> {
  for (let waited = 0; !condition() && waited < limitMs; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('growth under a flood of new sessions', () => {
  it('keeps the memory store at memory.max, evicting the least recently used', async () => {
    const { app, handler } = createTestApp({ driver: 'memory', memory: { max: 100 } });
    await createSessions(app, 1000);
    assert.equal((handler.store.store as unknown as { sessions: MemoryStore }).sessions.size, 100);
  });

  it('sweeps an unbounded memory store back to empty after the idle timeout', async () => {
    const { app, handler } = createTestApp({
      driver: 'memory',
      idleTimeout: 2,
      memory: { sweepInterval: '50ms' },
    });
    await createSessions(app, 500);
    const memoryStore = (handler.store.store as unknown as { sessions: MemoryStore }).sessions;
    // on a loaded machine the first sessions can expire (and be swept) before the last is made
    assert.ok(memoryStore.size > 0 && memoryStore.size <= 500, `${memoryStore.size} sessions`);
    await waitUntil(() => memoryStore.size === 0, 6000);
    assert.equal(memoryStore.size, 0);
  });

  it('sweeps the file store directory empty after the idle timeout', async () => {
    const directory = temporaryDirectory('growth');
    const { app, handler } = createTestApp({
      driver: 'file',
      idleTimeout: 2,
      file: { directory, sweepInterval: '100ms' },
    });
    await createSessions(app, 200);
    assert.equal(readdirSync(directory).length, 200);
    await waitUntil(() => readdirSync(directory).length === 0, 6000);
    assert.equal(readdirSync(directory).length, 0);
    await (handler.store.store as unknown as { sessions: FileStore }).sessions.close();
  });
});
