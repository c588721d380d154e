import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { OwnRedisServer } from '../helpers/redis-server';
import { quietLogger } from '../helpers/stores';

async function timed<T>(request: Promise<T>): Promise<{ result: T; milliseconds: number }> {
  const started = Date.now();
  const result = await request;
  return { result, milliseconds: Date.now() - started };
}

describe('the redis driver when Redis goes down', () => {
  it('answers 503 within 1.5 s, leaves cookieless requests alone, and recovers without a restart', async (context) => {
    const redis = await OwnRedisServer.start();
    const { app, handler } = createTestApp({ driver: 'redis', redis: { url: redis.url, prefix: 'outage' } });
    context.after(() => handler.store.disconnect());
    const cookie = sessionCookieOf(
      await supertest(app).put('/keys/user').send({ value: 'Sharon' }).expect(200),
    )!;

    await redis.stop();
    const down = await timed(supertest(app).get('/session').set('Cookie', cookie));
    assert.equal(down.result.status, 503);
    assert.equal(down.result.body.message, 'session store unavailable');
    assert.doesNotMatch(down.result.text, new RegExp(String(redis.port)));
    assert.ok(down.milliseconds < 1500, `answered in ${down.milliseconds} ms`);
    await supertest(app).get('/untouched').expect(200);
    const write = await timed(supertest(app).put('/keys/new').send({ value: 1 }));
    assert.equal(write.result.status, 503);
    assert.ok(write.milliseconds < 1500, `answered in ${write.milliseconds} ms`);

    await redis.start();
    let recovered = 0;
    for (let attempt = 0; attempt < 40 && recovered !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      recovered = (await supertest(app).put('/keys/user').send({ value: 'Asif' })).status;
    }
    assert.equal(recovered, 200);
  });

  it('answers 503 within 1.5 s when Redis hangs, and the session is intact once it answers again', async (context) => {
    const redis = await OwnRedisServer.start();
    const { app, handler } = createTestApp({
      driver: 'redis',
      redis: { url: redis.url, prefix: 'hang' },
      logger: quietLogger,
    });
    context.after(() => handler.store.disconnect());
    const cookie = sessionCookieOf(
      await supertest(app).put('/keys/user').send({ value: 'Sharon' }).expect(200),
    )!;

    redis.freeze();
    const hung = await timed(supertest(app).get('/session').set('Cookie', cookie));
    redis.thaw();
    assert.equal(hung.result.status, 503);
    assert.ok(hung.milliseconds < 1500, `answered in ${hung.milliseconds} ms`);
    const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
    assert.deepEqual(read.body.data, { user: 'Sharon' });
  });
});
