import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { createTestApp } from '../helpers/app';
import { storesUnderTest } from '../helpers/stores';

/** A test app whose logger keeps the warnings it is given. */
function appWithWarnings(options: SessionOptions) {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message), error: () => undefined };
  return { app: createTestApp({ ...options, logger }).app, warnings };
}

const day = 86_400_000;

for (const store of storesUnderTest) {
  describe(`misconfiguration warnings on the ${store.name} store`, () => {
    it('warns once of a Secure cookie dropped behind a TLS proxy that nothing trusts, naming proxy', async () => {
      const { app, warnings } = appWithWarnings({ ...store.options(), cookie: { secure: true } });
      for (let request = 0; request < 3; request += 1) {
        await supertest(app).put('/keys/user').set('X-Forwarded-Proto', 'https').send({ value: 'Ann' });
      }
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /X-Forwarded-Proto: https/);
      assert.match(warnings[0]!, /proxy: true/);
      assert.match(warnings[0]!, /trust proxy/);
    });

    it('says nothing when the proxy option is set, or no proxy forwarded the request', async () => {
      const trusted = appWithWarnings({ ...store.options(), cookie: { secure: true }, proxy: true });
      const sent = await supertest(trusted.app)
        .put('/keys/user')
        .set('X-Forwarded-Proto', 'https')
        .send({ value: 'Ann' });
      assert.match(String(sent.headers['set-cookie']), /Secure/);
      const direct = appWithWarnings({ ...store.options(), cookie: { secure: true } });
      await supertest(direct.app).put('/keys/user').send({ value: 'Ann' });
      assert.deepEqual([...trusted.warnings, ...direct.warnings], []);
    });

    it("warns once of sameSite: 'none' on a cookie that is not Secure", async () => {
      const { app, warnings } = appWithWarnings({ ...store.options(), cookie: { sameSite: 'none' } });
      await supertest(app).put('/keys/user').send({ value: 'Ann' });
      await supertest(app).put('/keys/user').send({ value: 'Bob' });
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /sameSite: 'none'/);
      assert.match(warnings[0]!, /cookie\.secure: true/);
    });

    it('warns once of a Set-Cookie longer than 4096 bytes, naming what makes it long', async () => {
      let ids = 0;
      const { app, warnings } = appWithWarnings({
        ...store.options(),
        genid: () => `${(ids += 1)}-${'a'.repeat(4100)}`,
      });
      await supertest(app).put('/keys/user').send({ value: 'Ann' });
      await supertest(app).put('/keys/user').send({ value: 'Bob' });
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /Set-Cookie header is \d+ bytes/);
      assert.match(warnings[0]!, /genid/);
    });

    it('warns once when the store lets a session expire before its cookie, naming idleTimeout', async () => {
      const { app, warnings } = appWithWarnings({
        ...store.options(),
        idleTimeout: '2h',
        cookie: { maxAge: 30 * day },
      });
      await supertest(app).put('/keys/user').send({ value: 'Ann' });
      await supertest(app).put('/keys/user').send({ value: 'Bob' });
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /after 2h \(idleTimeout, absoluteTimeout\)/);
      assert.match(warnings[0]!, /lives 30d \(cookie\.maxAge\)/);
    });

    it('says nothing for a session that lives as long as its cookie, or a browser-session cookie', async () => {
      const remembered = appWithWarnings({ ...store.options(), cookie: { maxAge: 30 * day } });
      await supertest(remembered.app).put('/keys/user').send({ value: 'Ann' });
      const browserSession = appWithWarnings({ ...store.options(), idleTimeout: '2h' });
      await supertest(browserSession.app).put('/keys/user').send({ value: 'Ann' });
      assert.deepEqual([...remembered.warnings, ...browserSession.warnings], []);
    });
  });
}
