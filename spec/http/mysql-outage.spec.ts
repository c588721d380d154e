import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from 'mysql2';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { mysqlAnswers, mysqlTableForTest, mysqlUrl, quietLogger } from '../helpers/stores';
import { OutageProxy } from '../helpers/outage-proxy';

async function timed<T>(request: PromiseLike<T>): Promise<{ result: T; milliseconds: number }> {
  const started = Date.now();
  const result = await request;
  return { result, milliseconds: Date.now() - started };
}

/** Retries a request until it answers 200, up to `attempts` times 100 ms apart; resolves to the last status. */
async function statusOnceRecovered(request: () => PromiseLike<{ status: number }>, attempts = 40) {
  let status = 0;
  for (let attempt = 0; attempt < attempts && status !== 200; attempt += 1) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await request()).status;
  }
  return status;
}

function appThrough(proxy: OutageProxy, extra: SessionOptions = {}) {
  const { app, handler } = createTestApp({
    driver: 'mysql',
    mysql: { url: `mysql://root@127.0.0.1:${proxy.port}/test`, table: mysqlTableForTest('outage') },
    storeTimeout: '1s',
    logger: quietLogger,
    ...extra,
  });
  after(() => handler.store.disconnect());
  return app;
}

describe(
  'the mysql driver when the database goes away',
  { skip: mysqlAnswers() ? false : 'MariaDB/MySQL is not running' },
  () => {
    it('answers 503 within 1.5 s while it is unreachable, leaves cookieless requests alone, and recovers with the sessions intact', async () => {
      const proxy = await OutageProxy.start(3306);
      const errors: unknown[] = [];
      const app = appThrough(proxy, {
        logger: { warn: () => undefined, error: (_message, error) => errors.push(error) },
      });
      const cookie = sessionCookieOf(
        await supertest(app).put('/keys/user').send({ value: 'Sharon' }).expect(200),
      )!;

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
      assert.ok(errors.length > 0, 'the failures went to the logger');

      await proxy.start();
      const recovered = await statusOnceRecovered(() =>
        supertest(app).put('/keys/last').set('Cookie', cookie).send({ value: 'Asif' }),
      );
      assert.equal(recovered, 200);
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(read.body.data, { user: 'Sharon', last: 'Asif' });
    });

    it('answers 503 within 1.5 s while it hangs, more requests than the pool has connections, and is not left with stuck connections', async () => {
      const proxy = await OutageProxy.start(3306);
      const pool = createPool({ uri: `mysql://root@127.0.0.1:${proxy.port}/test`, connectionLimit: 3 });
      after(() => pool.promise().end());
      const app = appThrough(proxy, { mysql: { pool, table: mysqlTableForTest('hang') } });
      const cookie = sessionCookieOf(
        await supertest(app).put('/keys/user').send({ value: 'Sharon' }).expect(200),
      )!;
      // every connection of the pool open, so that the hang catches them all
      const warm = await Promise.all([1, 2, 3].map(() => pool.promise().getConnection()));
      for (const connection of warm) connection.release();

      proxy.freeze();
      const hung = await Promise.all(
        Array.from({ length: 6 }, () => timed(supertest(app).get('/session').set('Cookie', cookie))),
      );
      for (const { result, milliseconds } of hung) {
        assert.equal(result.status, 503);
        assert.ok(milliseconds < 1500, `answered in ${milliseconds} ms`);
      }
      // the connections there are never answer: they are destroyed at their deadline (mysql.queryTimeout,
      // 2 s) instead of holding the pool, and new connections serve the next requests
      proxy.admitNew();
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const read = await timed(supertest(app).get('/session').set('Cookie', cookie));
      assert.equal(read.result.status, 200);
      assert.ok(read.milliseconds < 1000, `answered in ${read.milliseconds} ms`);
      assert.deepEqual(read.result.body.data, { user: 'Sharon' });
    });

    it("recovers when the server kills the app pool's connections (KILL), with the sessions intact", async () => {
      const pool = createPool({ uri: mysqlUrl, connectionLimit: 2 });
      after(() => pool.end());
      const { app, handler } = createTestApp({
        driver: 'mysql',
        mysql: { pool, table: mysqlTableForTest('kill') },
        storeTimeout: '1s',
      });
      after(() => handler.store.disconnect());
      const agent = supertest.agent(app);
      await agent.put('/keys/user').send({ value: 'Sharon' }).expect(200);

      const promisePool = pool.promise();
      const connections = await Promise.all([promisePool.getConnection(), promisePool.getConnection()]);
      const ids = connections.map((connection) => connection.threadId);
      for (const connection of connections) connection.release();
      const killer = createPool({ uri: mysqlUrl, connectionLimit: 1 }).promise();
      after(() => killer.end());
      for (const id of ids) await killer.query('KILL ?', [id]);

      const status = await statusOnceRecovered(() => agent.put('/keys/after').send({ value: 1 }), 5);
      assert.equal(status, 200);
      assert.deepEqual((await agent.get('/session').expect(200)).body.data, { user: 'Sharon', after: 1 });
    });
  },
);
