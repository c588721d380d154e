import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { Keyv } from 'keyv';
import { MemoryStore } from '../../src';
import { nodeTestAsVitest } from '../helpers/keyv-suite';

type SuiteKeyv = Parameters<typeof keyvTestSuite>[1];

describe('MemoryStore passes @keyv/test-suite', () => {
  const store = () => new MemoryStore();
  keyvTestSuite(nodeTestAsVitest as never, Keyv as unknown as SuiteKeyv, store as never);
  keyvIteratorTests(nodeTestAsVitest as never, Keyv as unknown as SuiteKeyv, store as never);
});

describe('MemoryStore', () => {
  it('keeps at most `max` entries, evicting the least recently used first', async () => {
    const adapter = new MemoryStore({ max: 3 });
    const keyv = new Keyv({ store: adapter });
    await keyv.set('a', 1);
    await keyv.set('b', 2);
    await keyv.set('c', 3);
    await keyv.get('a');
    await keyv.set('d', 4);
    assert.equal(adapter.size, 3);
    assert.equal(await keyv.get('b'), undefined);
    assert.equal(await keyv.get('a'), 1);
  });

  it('sweeps expired entries without being asked for them', async () => {
    const adapter = new MemoryStore({ sweepIntervalMs: 10 });
    const keyv = new Keyv({ store: adapter });
    await Promise.all(Array.from({ length: 100 }, (_, index) => keyv.set(`key${index}`, index, 15)));
    assert.equal(adapter.size, 100);
    for (let waited = 0; adapter.size > 0 && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(adapter.size, 0);
    await adapter.disconnect();
  });
});
