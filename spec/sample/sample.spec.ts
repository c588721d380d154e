import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { createApp } from '../../sample/src/app';
import { SignedOutElsewhere } from '../../sample/src/page/signed-out-elsewhere';
import { timeAgo } from '../../sample/src/page/time-ago';
import { describeUserAgent } from '../../sample/src/page/user-agent';
import { quietLogger, temporaryDirectory, testSecret } from '../helpers/stores';

const sharonAndAsif = [
  { id: 1, name: 'Sharon' },
  { id: 2, name: 'Asif' },
];

function sampleApp() {
  return createApp({
    secret: testSecret,
    logger: quietLogger,
    file: { directory: temporaryDirectory('sample') },
  });
}

function sampleAgent(app = sampleApp()) {
  return supertest.agent(app);
}

describe('the sample app', () => {
  for (const prefix of ['', '/decorated']) {
    const form = prefix ? 'with the decorators' : 'with request.session';
    it(`runs every docs example ${form}: store, check, read, delete, regenerate`, async (context) => {
      context.mock.method(console, 'log', () => undefined);
      const agent = sampleAgent();
      assert.deepEqual((await agent.get(`${prefix}/users/exists`).expect(200)).body, { exists: false });
      assert.deepEqual((await agent.post(`${prefix}/users`).expect(200)).body, { stored: sharonAndAsif });
      assert.deepEqual((await agent.get(`${prefix}/users/exists`)).body, { exists: true });
      assert.deepEqual((await agent.get(`${prefix}/session`).expect(200)).body, { users: sharonAndAsif });
      const regenerated = await agent.post(`${prefix}/regenerate`).expect(200);
      // The decorated routes are a @JsonController's: a string they return is sent as JSON.
      const text = (response: { text: string }) => (prefix ? JSON.parse(response.text) : response.text);
      assert.equal(text(regenerated), 'Session was regenerated');
      assert.ok(regenerated.headers['set-cookie']);
      assert.deepEqual((await agent.get(`${prefix}/session`)).body, {});
      await agent.post(`${prefix}/users`);
      assert.equal(text(await agent.delete(`${prefix}/users`).expect(200)), 'Users deleted');
      assert.deepEqual((await agent.get(`${prefix}/users/exists`)).body, { exists: false });
    });
  }

  it('reads typed, validated users with @SessionValue and answers 401 when there are none', async () => {
    const agent = sampleAgent();
    await agent.get('/decorated/users').expect(401);
    await agent.post('/users');
    assert.deepEqual((await agent.get('/decorated/users').expect(200)).body, sharonAndAsif);
  });

  it('answers the errors of its JSON routes as JSON: status, name and message, no stack', async () => {
    // routing-controllers puts the stack in its error bodies outside production (NODE_ENV=test included).
    const missing = await sampleAgent().get('/decorated/users').expect(401);
    assert.match(missing.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(missing.body, {
      name: 'SessionValueRequiredError',
      message: 'The session holds no "users".',
    });
    assert.doesNotMatch(missing.text, /stack|\bat .+:\d+:\d+/);
  });

  it('logs in with passport-local, shows a flash message once, and logs out', async () => {
    const agent = sampleAgent();
    const refused = await agent.post('/login').send({ username: 'sharon', password: 'wrong' }).expect(401);
    assert.deepEqual(refused.body.messages, ['Wrong username or password.']);
    const login = await agent
      .post('/login')
      .send({ username: 'sharon', password: 'correct horse battery staple' })
      .expect(200);
    assert.deepEqual(login.body.user, { id: 1, name: 'Sharon' });
    const me = await agent.get('/me').expect(200);
    assert.deepEqual(me.body, {
      user: { id: 1, name: 'Sharon' },
      previousSignIn: null,
      messages: ['Welcome back, Sharon!'],
    });
    assert.deepEqual((await agent.get('/me')).body.messages, []);
    await agent.post('/logout').expect(200);
    assert.deepEqual((await agent.get('/me')).body.user, null);
  });

  it('serves a client with no cookie jar (a mobile app) through the X-Session-Id header', async () => {
    const app = sampleApp();
    const credentials = { username: 'sharon', password: 'correct horse battery staple' };
    const login = await supertest(app).post('/login').send(credentials).expect(200);
    const sessionHeader = login.headers['x-session-id'] as string;
    assert.match(sessionHeader, /^s:.+\..+$/, 'the signed id comes back in the header');
    const me = await supertest(app).get('/me').set('X-Session-Id', sessionHeader).expect(200);
    assert.deepEqual(me.body.user, { id: 1, name: 'Sharon' });
    assert.equal(me.headers['set-cookie'], undefined, 'no cookie for a header client');
    await supertest(app).post('/logout').set('X-Session-Id', sessionHeader).expect(200);
    const after = await supertest(app).get('/me').set('X-Session-Id', sessionHeader).expect(200);
    assert.equal(after.body.user, null);
  });

  it("tells a user when they signed in before, from the sessions' regenerated events", async () => {
    const app = sampleApp();
    const credentials = { username: 'sharon', password: 'correct horse battery staple' };
    const first = await supertest(app).post('/login').send(credentials).expect(200);
    assert.equal(first.body.previousSignIn, null, 'a first sign-in');
    const before = Date.now();
    const laptop = sampleAgent(app);
    const second = await laptop.post('/login').send(credentials).expect(200);
    const previous = Date.parse(second.body.previousSignIn);
    assert.ok(previous <= before && before - previous < 10_000, "the first sign-in's time");
    assert.equal((await laptop.get('/me')).body.previousSignIn, second.body.previousSignIn);
    const page = await laptop.get('/').expect(200);
    assert.match(page.text, /id="previous-sign-in">Your sign-in before this one: <time datetime="[^"]+"/);
  });
});

describe('the sample page', () => {
  it('shows the sign-in form with the demo account, then the signed-in user, the cart and the flash', async () => {
    const agent = sampleAgent();
    const signedOut = await agent.get('/').expect(200).expect('Content-Type', /html/);
    assert.match(signedOut.text, /name="username"[\s\S]*name="password"/);
    assert.match(signedOut.text, /sharon[\s\S]*correct horse battery staple/);
    await agent
      .post('/page/login')
      .type('form')
      .send({ username: 'sharon', password: 'correct horse battery staple' })
      .expect(303);
    await agent.post('/cart').type('form').send({ item: '<b>tea</b>' }).expect(303);
    const signedIn = (await agent.get('/').expect(200)).text;
    assert.match(signedIn, /Signed in as <strong id="user-name">Sharon<\/strong>/);
    assert.match(signedIn, /Welcome back, Sharon!/);
    assert.match(signedIn, /<li>&#60;b&#62;tea&#60;\/b&#62;<\/li>/, 'escaped');
    assert.match(signedIn, /\(this device\)/);
    await agent.post('/page/logout').expect(303);
    assert.match((await agent.get('/')).text, /You are signed out\.[\s\S]*name="username"/);
  });
});

describe('the sample page, for a person', () => {
  const signIn = (agent: ReturnType<typeof sampleAgent>, password = 'correct horse battery staple') =>
    agent.post('/page/login').type('form').send({ username: 'sharon', password }).expect(303);

  it('shows a failed sign-in as an error and a sign-in as info', async () => {
    const agent = sampleAgent();
    await signIn(agent, 'wrong');
    assert.match(
      (await agent.get('/')).text,
      /<p class="flash error" role="alert">Wrong username or password\.<\/p>/,
    );
    await signIn(agent);
    assert.match((await agent.get('/')).text, /<p class="flash info">Welcome back, Sharon!<\/p>/);
  });

  it('has a viewport meta, and a "Sign out of this device" apart from "Sign out my other devices"', async () => {
    const agent = sampleAgent();
    assert.match(
      (await agent.get('/')).text,
      /<meta name="viewport" content="width=device-width, initial-scale=1">/,
    );
    await signIn(agent);
    const page = (await agent.get('/')).text;
    assert.match(page, />Sign out my other devices<\/button>/);
    assert.match(page, />Sign out of this device<\/button>/);
    assert.doesNotMatch(page, />Sign out<\/button>/);
  });

  it('lists sessions by browser and OS and when they were last used, the User-Agent on hover', async () => {
    const agent = sampleAgent();
    const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
    await agent.post('/page/login').set('User-Agent', firefox).type('form').send({
      username: 'sharon',
      password: 'correct horse battery staple',
    });
    const page = (await agent.get('/')).text;
    assert.match(
      page,
      /<span class="device" title="Mozilla\/5\.0 \(Windows[^"]*">Firefox on Windows<\/span>/,
    );
    assert.match(page, /last used <time datetime="[^"]+Z" title="[^"]+ UTC">just now<\/time>/);
  });

  it('tells a device signed out by "sign out my other devices" why, once; not one that signed itself out', async () => {
    const app = sampleApp();
    const laptop = sampleAgent(app);
    const phone = sampleAgent(app);
    await signIn(laptop);
    await signIn(phone);
    await phone.get('/'); // the page leaves its hint cookie
    await laptop.post('/page/sign-out-others').expect(303);
    const told = (await phone.get('/')).text;
    assert.match(
      told,
      /<p class="flash warning" role="alert">You were signed out from another device\.<\/p>/,
    );
    assert.match(told, /name="username"/);
    assert.doesNotMatch((await phone.get('/')).text, /another device/, 'once');
    await laptop.get('/');
    await laptop.post('/page/logout').expect(303);
    assert.doesNotMatch((await laptop.get('/')).text, /another device/);
  });

  it('says nothing to a browser whose session ended some other way, and clears its hint', async () => {
    const agent = sampleAgent();
    const answer = await agent.get('/').set('Cookie', 'signed_in=an-id-never-revoked').expect(200);
    assert.doesNotMatch(answer.text, /another device/);
    assert.match(String(answer.headers['set-cookie']), /signed_in=;/);
  });

  it('describes User-Agents as "<browser> on <OS>"', () => {
    const cases: Array<[string | undefined, string]> = [
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36',
        'Chrome on Linux',
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
        'Safari on macOS',
      ],
      [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
        'Safari on iOS',
      ],
      [
        'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
        'Chrome on Android',
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
        'Edge on Windows',
      ],
      ['curl/8.5.0', 'curl'],
      ['Mozilla/5.0 (X11; Linux x86_64) SomethingNew/1.0', 'A browser on Linux'],
      [undefined, 'Unknown browser'],
    ];
    for (const [userAgent, described] of cases)
      assert.equal(describeUserAgent(userAgent), described, userAgent);
  });

  it('says how long ago, in words', () => {
    const now = Date.UTC(2026, 0, 2, 12);
    assert.equal(timeAgo(now - 5_000, now), 'just now');
    assert.equal(timeAgo(now - 2 * 60_000, now), '2 minutes ago');
    assert.equal(timeAgo(now - 3 * 3_600_000, now), '3 hours ago');
    assert.equal(timeAgo(now - 26 * 3_600_000, now), 'yesterday');
    assert.equal(timeAgo(now + 1_000, now), 'just now', 'a clock a little ahead');
  });

  it('keeps a revoked id only as long as the session could have lived', () => {
    const marks = new SignedOutElsewhere(1_000);
    marks.mark(['a', 'b'], 0);
    assert.equal(marks.take('a', 999), true);
    assert.equal(marks.take('a', 999), false, 'asked once');
    assert.equal(marks.take('b', 1_000), false, 'run out');
    marks.mark(['c'], 0);
    marks.mark(['d'], 5_000);
    assert.equal(marks.size, 1, 'the marks that ran out are forgotten');
  });
});
