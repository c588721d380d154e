import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RedisConnection } from '../../src/stores/redis/connection';

/** A client of the app's own whose EVALSHA fails with NOSCRIPT after `noScriptAfterMs`; it records what it is sent. */
function clientForgettingScripts(noScriptAfterMs: number) {
  const sent: string[] = [];
  const client = {
    isReady: true,
    isOpen: true,
    sendCommand(args: string[]) {
      sent.push(args[0]!);
      if (args[0] !== 'EVALSHA') return Promise.resolve('done');
      return delay(noScriptAfterMs).then(() => {
        throw new Error('NOSCRIPT No matching script. Please use EVAL.');
      });
    },
  };
  return { client, sent };
}

describe('a Redis script the server does not know (NOSCRIPT, after a restart or a failover)', () => {
  it('is sent whole within the same deadline, and answers', async () => {
    const { client, sent } = clientForgettingScripts(10);
    const connection = new RedisConnection({ client: client as never, commandTimeout: '1s' });
    assert.equal(await connection.script('return 1', 'key', ['a']), 'done');
    assert.deepEqual(sent, ['EVALSHA', 'EVAL']);
  });

  it('is not sent again once the deadline failed the call: a save reported as failed stays unwritten', async () => {
    const { client, sent } = clientForgettingScripts(300);
    const connection = new RedisConnection({ client: client as never, commandTimeout: '100ms' });
    await assert.rejects(connection.script('return 1', 'key', ['a']), /did not answer within 100 ms/);
    await delay(400);
    assert.deepEqual(sent, ['EVALSHA']);
  });
});
