/**
 * `node build/bench/redis-per-session.js [count]`: Redis memory (INFO memory, used_memory) per idle session,
 * for this library's Redis driver (a hash per session) and for connect-redis (a JSON string per session),
 * each holding the same logged-in data. Keys go under a prefix of their own and are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { createClient } from 'redis';
import { RedisSessionStore } from '../src';
import { SessionCookie } from '../src/session/cookie';
import { generateSessionId, storeKeyOf } from '../src/session/ids';

const count = Number(process.argv[2] ?? 100_000);
const url = 'redis://127.0.0.1:6379';
const batch = 500;

type Client = ReturnType<typeof createClient>;

function userOf(index: number) {
  return { id: index, name: `user-${randomBytes(4).toString('hex')}`, roles: ['admin'] };
}

async function usedMemory(client: Client): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function removeKeys(client: Client, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    const list = Array.isArray(keys) ? keys : [keys];
    if (list.length > 0) await client.del(list);
  }
}

/** Bytes per session: writes `count` sessions with `write`, in batches, and measures used_memory around it. */
async function measure(client: Client, prefix: string, write: (index: number) => Promise<unknown>) {
  await removeKeys(client, prefix);
  const before = await usedMemory(client);
  for (let start = 0; start < count; start += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, at) => write(start + at)));
  }
  const bytes = ((await usedMemory(client)) - before) / count;
  await removeKeys(client, prefix);
  return bytes;
}

async function main(): Promise<void> {
  const client: Client = createClient({ url });
  await client.connect();
  const ourPrefix = `bench-bytes-rcs-${process.pid}:`;
  const theirPrefix = `bench-bytes-cr-${process.pid}:`;
  const ours = new RedisSessionStore({ url, prefix: ourPrefix });
  const expiry = Date.now() + 7_200_000;
  const ourBytes = await measure(client, ourPrefix, (index) => {
    const now = Date.now();
    const change = {
      set: { user: JSON.stringify(userOf(index)) },
      removed: [],
      meta: { createdAt: now, lastSeenAt: now },
      create: true,
    };
    return ours.apply(storeKeyOf(generateSessionId()), change, expiry);
  });
  await ours.close();
  const theirs = new ConnectRedisStore({ client: client as never, prefix: theirPrefix });
  const cookie = new SessionCookie({ maxAge: 7_200_000 }).toJSON();
  const theirBytes = await measure(client, theirPrefix, (index) => {
    const data = { cookie, user: userOf(index) } as unknown as SessionData;
    return theirs.set(randomBytes(24).toString('base64url'), data);
  });
  await client.quit();
  console.log(
    [
      `Redis memory per idle session (INFO memory used_memory), ${count} sessions of one logged-in user`,
      `  routing-controllers-session (a hash per session):  ${ourBytes.toFixed(0)} bytes/session`,
      `  connect-redis (a JSON string per session):        ${theirBytes.toFixed(0)} bytes/session`,
    ].join('\n'),
  );
}

void main();
