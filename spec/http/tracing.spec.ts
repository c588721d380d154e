import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import supertest from 'supertest';
import { storeKeyOf } from '../../src/session/ids';
import { sessionCookieOf } from '../helpers/app';

/** The trace-server fixture in a child process with the given NODE_DEBUG; its stderr is kept. */
async function startTracedServer(nodeDebug: string | undefined) {
  const env = { ...process.env };
  if (nodeDebug === undefined) delete env.NODE_DEBUG;
  else env.NODE_DEBUG = nodeDebug;
  const child = spawn(process.execPath, [join(__dirname, '..', 'fixtures', 'trace-server.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [firstLine] = (await once(child.stdout, 'data')) as [Buffer];
  const { port } = JSON.parse(firstLine.toString()) as { port: number };
  let read = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    all: () => stderr,
    stop: () => child.kill('SIGKILL'),
    /** The trace lines written since the last call, once `expected` is among them (waits up to 5 s). */
    async linesUntil(expected: RegExp): Promise<string[]> {
      for (let waited = 0; !expected.test(stderr.slice(read)) && waited < 5000; waited += 10) await delay(10);
      const lines = stderr.slice(read).split('\n').filter(Boolean);
      read = stderr.length;
      assert.ok(
        lines.some((line) => expected.test(line)),
        `no trace line matches ${expected}:\n${lines.join('\n')}`,
      );
      const prefix = `ROUTING-CONTROLLERS-SESSION ${child.pid}: `;
      assert.ok(
        lines.every((line) => line.startsWith(prefix)),
        lines.join('\n'),
      );
      return lines.map((line) => line.slice(prefix.length));
    },
  };
}

/** The raw session id inside a `sid=s%3A<id>.<signature>` cookie. */
const rawIdOf = (cookie: string) => decodeURIComponent(cookie.slice('sid='.length)).slice(2).split('.')[0]!;
const short = (rawId: string) => storeKeyOf(rawId).slice(0, 8);

describe('tracing with NODE_DEBUG=routing-controllers-session', () => {
  let server: Awaited<ReturnType<typeof startTracedServer>>;
  const rawIds: string[] = [];

  before(async () => {
    server = await startTracedServer('routing-controllers-session');
  });
  after(() => server.stop());

  const remember = (response: { headers: Record<string, unknown> }) => {
    const cookie = sessionCookieOf(response);
    if (cookie && cookie !== 'sid=') rawIds.push(rawIdOf(cookie));
    return cookie;
  };

  it('traces a new session saved and its cookie sent, then one loaded and left alone', async () => {
    const agent = supertest.agent(server.url);
    await agent.get('/untouched').expect(200);
    assert.deepEqual(await server.linesUntil(/no session cookie/), [
      'no session cookie: a new session, built if the request uses it',
    ]);
    const first = await agent.post('/count').expect(200);
    const id = short(rawIdOf(remember(first)!));
    assert.deepEqual(await server.linesUntil(/cookie sent/), [
      'no session cookie: a new session, built if the request uses it',
      `session ${id} saved (changed)`,
      `cookie sent for session ${id}: new id`,
    ]);
    await agent.get('/peek').expect(200);
    assert.deepEqual(await server.linesUntil(/no cookie for/), [
      `session ${id} loaded`,
      `session ${id} not saved: unchanged`,
      `no cookie for session ${id}: the client holds it already`,
    ]);
  });

  it('traces regenerate and destroy, and a cookie that names a session no longer stored', async () => {
    const agent = supertest.agent(server.url);
    const first = await agent.post('/count').expect(200);
    const oldCookie = remember(first)!;
    const oldId = short(rawIdOf(oldCookie));
    await server.linesUntil(/cookie sent/);
    const signedIn = await agent.post('/sign-in').expect(200);
    const newId = short(rawIdOf(remember(signedIn)!));
    assert.deepEqual(await server.linesUntil(/cookie sent/), [
      `session ${oldId} loaded`,
      `session ${oldId} regenerated into session ${newId} (empty)`,
      `session ${newId} saved (changed)`,
      `cookie sent for session ${newId}: new id`,
    ]);
    await supertest(server.url).get('/peek').set('Cookie', oldCookie).expect(200);
    const [notFound, ...rest] = await server.linesUntil(/no cookie for/);
    assert.equal(
      notFound,
      `session ${oldId} not found: never stored, or removed (destroyed, regenerated, revoked, expired)`,
    );
    const fresh = /^session (\S{8}) not saved/.exec(rest[0]!)![1]!;
    assert.deepEqual(rest, [
      `session ${fresh} not saved: unchanged (new and empty, saveUninitialized is off)`,
      `no cookie for session ${fresh}: the session is not stored`,
    ]);
    const signedOut = await agent.post('/sign-out').expect(200);
    assert.equal(sessionCookieOf(signedOut), 'sid=');
    assert.deepEqual(await server.linesUntil(/cookie cleared/), [
      `session ${newId} loaded`,
      `session ${newId} destroyed`,
      `session ${newId} not saved: destroyed`,
      `cookie cleared for session ${newId}: the session was destroyed`,
    ]);
  });

  it('traces each reason a stored session is discarded, and a save that finds it gone', async () => {
    for (const [what, reason] of [
      ['unreadable', 'unreadable (corrupt, or not a session record)'],
      ['off-schema', 'its data does not match the schema'],
      ['expired', 'expired (idle or absolute timeout); removing it'],
    ] as const) {
      const agent = supertest.agent(server.url);
      const id = short(rawIdOf(remember(await agent.post('/count').expect(200))!));
      await agent.post(`/plant/${what}`).expect(200);
      await server.linesUntil(/no cookie for/);
      await agent.get('/peek').expect(200);
      const [discarded, unsaved, cookie] = await server.linesUntil(/no cookie for/);
      assert.equal(discarded, `session ${id} discarded: ${reason}`, what);
      assert.match(
        unsaved!,
        /^session \S{8} not saved: unchanged \(new and empty, saveUninitialized is off\)$/,
      );
      assert.match(cookie!, /^no cookie for session \S{8}: the session is not stored$/);
    }
    const agent = supertest.agent(server.url);
    const id = short(rawIdOf(remember(await agent.post('/count').expect(200))!));
    await server.linesUntil(/cookie sent/);
    await agent.post('/revoked-meanwhile').expect(200);
    assert.deepEqual(await server.linesUntil(/no cookie for/), [
      `session ${id} loaded`,
      `session ${id} not saved: it was removed meanwhile (destroyed, revoked or expired); it stays removed`,
      `no cookie for session ${id}: the client holds it already`,
    ]);
  });

  it('traces a store failure by the error class and code, never its message', async () => {
    const agent = supertest.agent(server.url);
    const id = short(rawIdOf(remember(await agent.post('/count').expect(200))!));
    await agent.post('/plant/failing').expect(200);
    await server.linesUntil(/no cookie for/);
    await agent.get('/peek').expect(503);
    assert.deepEqual(await server.linesUntil(/loading it failed/), [
      `session ${id}: loading it failed, SessionStoreUnavailableError (store memory: EIO): ` +
        "the request fails with 503 (onStoreError: 'fail')",
    ]);
  });

  it('never writes a raw session id or a session value', () => {
    const trace = server.all();
    assert.ok(rawIds.length >= 6);
    for (const rawId of rawIds) assert.ok(!trace.includes(rawId), `the trace holds the raw id ${rawId}`);
    for (const value of [
      'sharon-the-secret-user',
      'many-many-visits',
      'planted-garbage-value',
      'disk is on fire',
    ]) {
      assert.ok(!trace.includes(value), `the trace holds "${value}"`);
    }
  });
});

describe('without NODE_DEBUG', () => {
  it('writes nothing to stderr', async () => {
    const server = await startTracedServer(undefined);
    const agent = supertest.agent(server.url);
    await agent.post('/count').expect(200);
    await agent.post('/sign-in').expect(200);
    await agent.post('/sign-out').expect(200);
    await delay(50);
    server.stop();
    assert.equal(server.all(), '');
  });
});
