import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import express from 'express';
import expressSession from 'express-session';
import { createClient } from 'redis';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import { redisAnswers, redisUrl, testSecret } from '../helpers/stores';

// Moving from express-session + connect-redis: the app keeps its RedisStore and its secret, swaps the
// middleware, and its users stay signed in; records stay where and how express-session keeps them, so the
// move can be rolled back. (express-session-store.spec does the same over express-session's MemoryStore.)
describe(
  'moving from express-session + connect-redis (the same RedisStore passed as `store`)',
  { skip: redisAnswers() ? false : 'Redis does not answer on 127.0.0.1:6379' },
  () => {
    const prefix = `rcs-test-connect-redis-${process.pid}:`;
    const client = createClient({ url: redisUrl });
    const store = new ConnectRedisStore({ client, prefix });

    before(() => client.connect());
    after(async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(keys);
      client.destroy();
    });

    function legacyApp() {
      const legacy = express();
      legacy.use(
        expressSession({ name: 'sid', secret: testSecret, store, resave: false, saveUninitialized: false }),
      );
      legacy.get('/login', (request, response) => {
        (request.session as unknown as Record<string, unknown>).user = { id: 7, name: 'Sharon' };
        response.send('ok');
      });
      legacy.get('/session', (request, response) => response.json(request.session));
      return legacy;
    }

    it('keeps the users express-session signed in, and writes records express-session reads again', async () => {
      const legacy = legacyApp();
      const cookie = sessionCookieOf(await supertest(legacy).get('/login').expect(200))!;
      const id = decodeURIComponent(cookie).slice('sid=s:'.length).split('.')[0]!;
      assert.ok(await client.exists(`${prefix}${id}`), 'express-session wrote its record under <prefix><id>');

      const { app } = createTestApp({ store });
      const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(
        read.body.data,
        { user: { id: 7, name: 'Sharon' } },
        `still signed in after the switch: the record express-session wrote under ${prefix}<id> is read`,
      );
      assert.equal(read.body.id, id);

      await supertest(app).put('/keys/theme').set('Cookie', cookie).send({ value: 'dark' }).expect(200);
      const keys = await client.keys(`${prefix}*`);
      assert.deepEqual(keys, [`${prefix}${id}`], 'the save went to the same key, and nowhere else');
      const record = JSON.parse((await client.get(`${prefix}${id}`))!) as Record<string, unknown>;
      assert.equal(record.theme, 'dark');
      assert.deepEqual(record.user, { id: 7, name: 'Sharon' });
      assert.equal(typeof record.cookie, 'object', "still express-session's { cookie, ...data }");

      const readByLegacy = await supertest(legacy).get('/session').set('Cookie', cookie).expect(200);
      assert.equal(readByLegacy.body.theme, 'dark');
      assert.deepEqual(readByLegacy.body.user, { id: 7, name: 'Sharon' });
    });
  },
);
