/**
 * `node --expose-gc build/bench/memory-per-session.js [count]`: heap used per idle session in the memory
 * store, against the JSON size of its data, beside express-session's MemoryStore holding the same data.
 * Sessions are written the way the lifecycle writes them (store key = hash of a fresh id, one atomic apply
 * of the data's keys as JSON with createdAt and lastSeenAt).
 */
import { randomBytes } from 'node:crypto';
import expressSession from 'express-session';
import { MemoryStore } from '../src';
import { SessionCookie } from '../src/session/cookie';
import { generateSessionId, storeKeyOf } from '../src/session/ids';

const count = Number(process.argv[2] ?? 100_000);

function dataOf(index: number) {
  return { user: { id: index, name: `user-${randomBytes(4).toString('hex')}` } };
}

function heapUsed(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with node --expose-gc');
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

async function ours(): Promise<number> {
  const store = new MemoryStore();
  const before = heapUsed();
  const now = Date.now();
  for (let index = 0; index < count; index += 1) {
    const set = Object.fromEntries(
      Object.entries(dataOf(index)).map(([key, value]) => [key, JSON.stringify(value)]),
    );
    const change = { set, removed: [], meta: { createdAt: now, lastSeenAt: now }, create: true };
    store.applyNow(storeKeyOf(generateSessionId()), change, now + 7_200_000);
  }
  return (heapUsed() - before) / count;
}

async function expressSessions(): Promise<number> {
  const store = new expressSession.MemoryStore();
  const cookie = new SessionCookie().toJSON();
  const before = heapUsed();
  for (let index = 0; index < count; index += 1) {
    const data = { cookie, ...dataOf(index) } as unknown as expressSession.SessionData;
    await new Promise<void>((resolve) =>
      store.set(randomBytes(24).toString('base64url'), data, () => resolve()),
    );
  }
  return (heapUsed() - before) / count;
}

async function main(): Promise<void> {
  const jsonSize = Buffer.byteLength(JSON.stringify(dataOf(count)));
  const ourBytes = await ours();
  const theirBytes = await expressSessions();
  const lines = [
    `Memory per idle session, ${count} sessions, Node ${process.version}: data of ${jsonSize} bytes of JSON`,
    `  routing-controllers-session memory store: ${ourBytes.toFixed(0)} bytes/session (${(ourBytes - jsonSize).toFixed(0)} over the JSON size)`,
    `  express-session MemoryStore:              ${theirBytes.toFixed(0)} bytes/session (${(theirBytes - jsonSize).toFixed(0)} over the JSON size)`,
  ];
  console.log(lines.join('\n'));
}

void main();
