import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import { createClient } from 'redis';
import supertest from 'supertest';
import { LeanFileStore } from '../../bench/lean/file';
import { LeanMemoryStore } from '../../bench/lean/memory';
import { LeanRedisStore } from '../../bench/lean/redis';
import type { LeanStore } from '../../bench/lean/session';
import { leanSession } from '../../bench/lean/session';
import { unsignSessionId } from '../../src/session/cookie';
import { storeKeyOf } from '../../src/session/ids';
import { sessionCookieOf } from '../helpers/app';
import { testSecret } from '../helpers/stores';

const redisUrl = 'redis://127.0.0.1:6379';
const redisPrefix = `lean-spec-${process.pid}:`;
const directory = mkdtempSync(join(tmpdir(), 'lean-spec-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function appOf(store: LeanStore) {
  const app = express();
  app.use(leanSession(app, store, testSecret));
  type Data = Record<string, unknown>;
  app.get('/counter', (request: Request, response: Response) => {
    const data = request.session as unknown as Data;
    data.counter = ((data.counter as number | undefined) ?? 0) + 1;
    response.json(data);
  });
  app.get('/set/:key/:value', (request: Request, response: Response) => {
    (request.session as unknown as Data)[request.params.key as string] = request.params.value;
    response.json(request.session);
  });
  app.get('/remove/:key', (request: Request, response: Response) => {
    delete (request.session as unknown as Data)[request.params.key as string];
    response.json(request.session);
  });
  app.get('/plain', (_request: Request, response: Response) => {
    response.send('ok');
  });
  return app;
}

/** The session id in a Set-Cookie of the lean reference, read with our own cookie code. */
function idOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  const unsigned = unsignSessionId(value, [testSecret]);
  assert.ok(unsigned, `the cookie ${cookie} is signed as ours`);
  return unsigned.id;
}

function behavesLikeOurDesign(name: string, storeOf: () => Promise<LeanStore>) {
  describe(`the lean reference on ${name}`, () => {
    it('sends a cookie signed as ours only once something is stored, then only for a new session', async () => {
      const app = appOf(await storeOf());
      const plain = await supertest(app).get('/plain');
      assert.equal(plain.headers['set-cookie'], undefined);
      const first = await supertest(app).get('/counter');
      const cookie = sessionCookieOf(first)!;
      assert.match(first.headers['set-cookie']![0]!, /^sid=s%3A[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
      idOf(cookie);
      const second = await supertest(app).get('/counter').set('Cookie', cookie);
      assert.deepEqual(second.body, { counter: 2 });
      assert.equal(second.headers['set-cookie'], undefined);
    });

    it('stores each key apart: a set, a removal and an unchanged key', async () => {
      const app = appOf(await storeOf());
      const cookie = sessionCookieOf(await supertest(app).get('/set/a/1'))!;
      await supertest(app).get('/set/b/2').set('Cookie', cookie);
      await supertest(app).get('/remove/a').set('Cookie', cookie);
      assert.deepEqual((await supertest(app).get('/counter').set('Cookie', cookie)).body, {
        b: '2',
        counter: 1,
      });
    });

    it('starts a new session for a forged cookie or an unknown id', async () => {
      const app = appOf(await storeOf());
      const cookie = sessionCookieOf(await supertest(app).get('/counter'))!;
      const forged = cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A');
      const answer = await supertest(app).get('/counter').set('Cookie', forged);
      assert.deepEqual(answer.body, { counter: 1 });
      assert.notEqual(idOf(sessionCookieOf(answer)!), idOf(cookie));
    });
  });
}

behavesLikeOurDesign('memory', async () => new LeanMemoryStore());
behavesLikeOurDesign('files', async () => new LeanFileStore(directory));

describe('the lean reference on Redis', async () => {
  const store = await LeanRedisStore.connect(redisUrl, redisPrefix);
  const client = createClient({ url: redisUrl });
  await client.connect();
  after(async () => {
    for await (const keys of client.scanIterator({ MATCH: `${redisPrefix}*` }))
      if (keys.length) await client.del(keys);
    await client.close();
    await store.close();
  });
  behavesLikeOurDesign('Redis', async () => store);

  it('keeps a hash at SHA-256 of the id, as ours: m the meta, d:<key> the JSON of each key, with an expiry', async () => {
    const app = appOf(store);
    const id = idOf(sessionCookieOf(await supertest(app).get('/set/name/Sharon'))!);
    const redisKey = redisPrefix + storeKeyOf(id);
    const hash = await client.hGetAll(redisKey);
    assert.deepEqual(Object.keys(hash).sort(), ['d:name', 'm']);
    assert.equal(hash['d:name'], '"Sharon"');
    assert.ok((await client.pTTL(redisKey)) > 60_000);
  });
});

describe('the lean reference on files', () => {
  it('names the file by SHA-256 of the id', async () => {
    const own = mkdtempSync(join(directory, 'names-'));
    const app = appOf(new LeanFileStore(own));
    const id = idOf(sessionCookieOf(await supertest(app).get('/counter'))!);
    assert.deepEqual(readdirSync(own), [`${storeKeyOf(id)}.json`]);
  });
});
