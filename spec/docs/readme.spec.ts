import 'reflect-metadata';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import express from 'express';
import { Get, JsonController, Post, useExpressServer } from 'routing-controllers';
import supertest from 'supertest';
import { createSessionMiddleware, Session, SessionValue } from '../../src';
import { quietLogger, testSecret } from '../helpers/stores';

const root = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

declare module '../../src' {
  interface SessionData {
    readmeUserId?: number;
  }
}

// The README's "From a controller", as written there (its key renamed): the class made once in a module,
// imported where the app is set up and in the controller.
const Sessions = createSessionMiddleware({
  driver: 'memory',
  secret: testSecret,
  logger: quietLogger,
  userKey: 'readmeUserId',
});

@JsonController('/account')
class AccountController {
  @Post('/sign-in')
  signIn(@Session() session: Session) {
    session.readmeUserId = 42;
    return { signedIn: true };
  }

  @Get('/sessions')
  list(@SessionValue('readmeUserId', { required: true }) userId: number, @Session() session: Session) {
    return Sessions.listUserSessions(userId, { current: session.id });
  }

  @Post('/sign-out-others')
  async signOutOthers(
    @SessionValue('readmeUserId', { required: true }) userId: number,
    @Session() session: Session,
  ) {
    return { revoked: await Sessions.revokeUserSessions(userId, { except: session.id }) };
  }
}

describe('the README', () => {
  it('names only files that a clone of this repository has', () => {
    const named = [
      ...readme.matchAll(/`((?:\.\.\/|sample\/|spec\/|docs\/|conformance\/|bench\/)[^`\s]*)`/g),
      ...readme.matchAll(/\]\(((?!https?:)[^)#]+)[^)]*\)/g),
    ].map(([, path]) => path!);
    assert.ok(named.length > 10, `found ${named.length}`);
    const missing = named.filter((path) => path.startsWith('../') || !existsSync(join(root, path)));
    assert.deepEqual(missing, [], 'not in the repository (a path outside it, or a file that moved)');
  });

  it("reaches listUserSessions and revokeUserSessions from a controller as its usage says; current marks the asker's", async () => {
    const app = express();
    useExpressServer(app, { middlewares: [Sessions], controllers: [AccountController], development: false });
    const laptop = supertest.agent(app);
    const phone = supertest.agent(app);
    await laptop.post('/account/sign-in').set('User-Agent', 'laptop').expect(200);
    await phone.post('/account/sign-in').set('User-Agent', 'phone').expect(200);
    const listed = (await laptop.get('/account/sessions').expect(200)).body as Array<{
      userAgent: string;
      current?: true;
    }>;
    assert.deepEqual(listed.map((entry) => [entry.userAgent, entry.current]).sort(), [
      ['laptop', true],
      ['phone', undefined],
    ]);
    assert.deepEqual((await laptop.post('/account/sign-out-others').expect(200)).body, { revoked: 1 });
    await phone.get('/account/sessions').expect(401);
    assert.equal((await laptop.get('/account/sessions').expect(200)).body.length, 1);
  });

  it('tells how to run express-session\'s suite from a clone of it, and says what "current" means', () => {
    assert.match(readme, /git clone https:\/\/github\.com\/expressjs\/session\.git/);
    assert.match(readme, /conformance\/express-session\/run\.sh \.\.\/express-session/);
    assert.match(readme, /\*\*`current`\*\* is the raw id of the session that asks/);
  });
});
