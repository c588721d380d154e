import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { OutageProxy } from '../helpers/outage-proxy';
import { postgresAdmin, postgresAnswers, postgresTableForTest } from '../helpers/stores';

async function timed<T>(request: PromiseLike<T>): Promise<{ result: T; milliseconds: number }> {
  const started = Date.now();
  const result = await request;
  return { result, milliseconds: Date.now() - started };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An app on the postgres driver that reaches PostgreSQL through a proxy of the test's own. */
async function appBehindProxy(name: string, extra: Partial<NonNullable<SessionOptions['postgres']>> = {}) {
  const proxy = await OutageProxy.start(5432);
  const errors: unknown[] = [];
  const applicationName = `rcs_${name}_${process.pid}`;
  const { app, handler } = createTestApp({
    driver: 'postgres',
    postgres: {
      url: `postgres://postgres@127.0.0.1:${proxy.port}/test?application_name=${applicationName}`,
      table: postgresTableForTest(name),
      connectTimeout: '500ms',
      queryTimeout: '1s',
      ...extra,
    },
    storeTimeout: '1s',
    logger: { warn: () => undefined, error: (_message, error) => errors.push(error) },
  });
  const cookie = sessionCookieOf(
    await supertest(app).put('/keys/user').send({ value: 'Sharon' }).expect(200),
  )!;
  return { app, handler, proxy, errors, cookie, applicationName };
}

async function untilAnswered(request: () => PromiseLike<{ status: number }>, status: number) {
  let answered = 0;
  for (let attempt = 0; attempt < 50 && answered !== status; attempt += 1) {
    if (attempt > 0) await sleep(100);
    answered = (await request()).status;
  }
  return answered;
}

describe(
  'the postgres driver when PostgreSQL goes down',
  { skip: !postgresAnswers() && 'PostgreSQL does not answer' },
  () => {
    it('answers 503 within storeTimeout, leaves cookieless requests alone, and recovers with the sessions intact', async (context) => {
      const { app, handler, proxy, errors, cookie } = await appBehindProxy('pgdown');
      context.after(() => handler.store.disconnect());

      await proxy.stop();
      const down = await timed(supertest(app).get('/session').set('Cookie', cookie));
      assert.equal(down.result.status, 503);
      assert.equal(down.result.body.message, 'session store unavailable');
      assert.doesNotMatch(down.result.text, new RegExp(String(proxy.port)));
      assert.ok(down.milliseconds < 1500, `answered in ${down.milliseconds} ms`);
      await supertest(app).get('/untouched').expect(200);
      const write = await timed(supertest(app).put('/keys/new').send({ value: 1 }));
      assert.equal(write.result.status, 503);
      assert.ok(write.milliseconds < 1500, `answered in ${write.milliseconds} ms`);
      assert.ok(errors.length >= 1, 'the outage reaches the logger');

      await proxy.start();
      const recovered = await untilAnswered(
        () => supertest(app).put('/keys/visits').set('Cookie', cookie).send({ value: 1 }),
        200,
      );
      assert.equal(recovered, 200);
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(read.body.data, { user: 'Sharon', visits: 1 });
    });

    it('answers 503 within storeTimeout while PostgreSQL hangs, many requests at once, then serves them again', async (context) => {
      const { app, handler, proxy, cookie } = await appBehindProxy('pghang');
      context.after(() => handler.store.disconnect());

      proxy.freeze();
      const hung = await timed(
        Promise.all(
          Array.from({ length: 25 }, (_, index) =>
            index % 2 === 0
              ? supertest(app).get('/session').set('Cookie', cookie)
              : supertest(app).put('/keys/other').set('Cookie', cookie).send({ value: index }),
          ),
        ),
      );
      assert.deepEqual(new Set(hung.result.map((answer) => answer.status)), new Set([503]));
      assert.ok(hung.milliseconds < 2000, `all answered in ${hung.milliseconds} ms`);
      proxy.thaw();
      const recovered = await untilAnswered(() => supertest(app).get('/session').set('Cookie', cookie), 200);
      assert.equal(recovered, 200);
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.equal(read.body.data.user, 'Sharon');
    });

    it('drops connections whose queries never answer, so a silently dead network path does not hold the pool', async (context) => {
      // more requests than the pool has connections, all stuck on connections that will never answer
      const { app, handler, proxy, cookie } = await appBehindProxy('pgdead');
      context.after(() => handler.store.disconnect());
      await Promise.all(
        Array.from({ length: 12 }, () => supertest(app).get('/session').set('Cookie', cookie)),
      );

      proxy.freezeOpenConnections();
      const stuck = await Promise.all(
        Array.from({ length: 15 }, () => supertest(app).get('/session').set('Cookie', cookie)),
      );
      assert.ok(stuck.every((answer) => answer.status === 503));
      // once the query timeout has dropped them, new connections serve the requests: no restart, no thaw
      const recovered = await untilAnswered(() => supertest(app).get('/session').set('Cookie', cookie), 200);
      assert.equal(recovered, 200);
    });

    it('recovers when its connections are terminated (pg_terminate_backend), reporting it, without crashing', async (context) => {
      const { app, handler, errors, cookie, applicationName } = await appBehindProxy('pgkill');
      context.after(() => handler.store.disconnect());
      await Promise.all(
        Array.from({ length: 4 }, () => supertest(app).get('/session').set('Cookie', cookie)),
      );

      const [[terminated]] = (await postgresAdmin(
        `SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = '${applicationName}'`,
      )) as [[number]];
      assert.ok(terminated >= 1, `terminated ${terminated} connections`);
      await sleep(100);
      const recovered = await untilAnswered(
        () => supertest(app).put('/keys/after').set('Cookie', cookie).send({ value: true }),
        200,
      );
      assert.equal(recovered, 200);
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(read.body.data, { user: 'Sharon', after: true });
      assert.ok(errors.length >= 1, 'the terminated connections reach the logger');
    });
  },
);
