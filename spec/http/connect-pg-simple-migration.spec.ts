import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import connectPgSimple from 'connect-pg-simple';
import express from 'express';
import expressSession from 'express-session';
import { Pool } from 'pg';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import {
  postgresAdmin,
  postgresAnswers,
  postgresTableForTest,
  postgresUrl,
  testSecret,
} from '../helpers/stores';

/** The README's one statement that copies connect-pg-simple's sessions into the driver's table. */
function migrationStatement(from: string, to: string): string {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const statement = /```sql\n(INSERT INTO "sessions"[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(statement, 'the README gives the statement');
  return statement.replaceAll('"sessions"', `"${to}"`).replaceAll('"session"', `"${from}"`);
}

describe(
  'moving from express-session + connect-pg-simple to the postgres driver (the README statement)',
  { skip: !postgresAnswers() && 'PostgreSQL does not answer' },
  () => {
    it('keeps the users signed in, with their data, their remember-me cookie and their expiry', async () => {
      const legacyTable = postgresTableForTest('cps');
      await postgresAdmin(
        `CREATE TABLE "${legacyTable}" (sid varchar NOT NULL PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)`,
      );
      const pool = new Pool({ connectionString: postgresUrl });
      after(() => pool.end());
      const PgStore = connectPgSimple(expressSession);
      const legacyStore = new PgStore({ pool, tableName: legacyTable, pruneSessionInterval: false });
      const legacy = express();
      legacy.use(
        expressSession({
          name: 'sid',
          secret: testSecret,
          store: legacyStore,
          resave: false,
          saveUninitialized: false,
        }),
      );
      legacy.get('/login', (request, response) => {
        const data = request.session as unknown as Record<string, unknown>;
        data.user = { id: 7, name: 'Sharon "Shaz" O\'Neil', roles: ['admin'] };
        data['odd.key $'] = 2 ** 60;
        if (request.query.remember) request.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
        response.send('ok');
      });
      const plain = sessionCookieOf(await supertest(legacy).get('/login').expect(200))!;
      const remembered = sessionCookieOf(await supertest(legacy).get('/login?remember=1').expect(200))!;
      const expired = sessionCookieOf(await supertest(legacy).get('/login').expect(200))!;
      const expiredId = decodeURIComponent(expired).slice('sid=s:'.length).split('.')[0]!;
      await postgresAdmin(
        `UPDATE "${legacyTable}" SET expire = now() - interval '1 minute' WHERE sid = '${expiredId}'`,
      );

      const table = postgresTableForTest('cpsnew');
      const { app, handler } = createTestApp({ driver: 'postgres', postgres: { url: postgresUrl, table } });
      after(() => handler.store.disconnect());
      await supertest(app).put('/keys/first').send({ value: 1 }).expect(200); // the driver creates its table
      await postgresAdmin(migrationStatement(legacyTable, table));

      for (const cookie of [plain, remembered]) {
        const read = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
        assert.deepEqual(read.body.data, {
          user: { id: 7, name: 'Sharon "Shaz" O\'Neil', roles: ['admin'] },
          'odd.key $': 2 ** 60,
        });
        assert.equal(read.body.id, decodeURIComponent(cookie).slice('sid=s:'.length).split('.')[0]);
        await supertest(app).put('/keys/theme').set('Cookie', cookie).send({ value: 'dark' }).expect(200);
        const again = await supertest(app).get('/session').set('Cookie', cookie).expect(200);
        assert.equal(again.body.data.theme, 'dark');
      }
      const expiredRead = await supertest(app).get('/session').set('Cookie', expired).expect(200);
      assert.deepEqual(expiredRead.body.data, {}, 'an expired session is not brought back');

      // the remember-me session keeps its 30 days: a rolled cookie carries them
      const [[days]] = (await postgresAdmin(
        `SELECT round(extract(epoch FROM max(expires_at) - now()) / 86400)::int FROM "${table}"`,
      )) as [[number]];
      assert.equal(days, 30);
      const [[copied]] = (await postgresAdmin(
        `SELECT count(*)::int FROM "${table}" WHERE data ? 'user'`,
      )) as [[number]];
      assert.equal(copied, 2);
      await postgresAdmin(migrationStatement(legacyTable, table));
      const [[afterRerun]] = (await postgresAdmin(
        `SELECT count(*)::int FROM "${table}" WHERE data ? 'user'`,
      )) as [[number]];
      assert.equal(afterRerun, 2, 'running it again copies nothing twice');
      const [[theme]] = (await postgresAdmin(
        `SELECT count(*)::int FROM "${table}" WHERE data ? 'theme'`,
      )) as [[number]];
      assert.equal(theme, 2, 'running it again does not undo later saves');
    });
  },
);
