import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { createApp } from '../../sample/src/app';
import { quietLogger, temporaryDirectory, testSecret } from '../helpers/stores';

const sharonAndAsif = [
  { id: 1, name: 'Sharon' },
  { id: 2, name: 'Asif' },
];

function sampleAgent() {
  const app = createApp({
    secret: testSecret,
    logger: quietLogger,
    file: { directory: temporaryDirectory('sample') },
  });
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
    assert.deepEqual(me.body, { user: { id: 1, name: 'Sharon' }, messages: ['Welcome back, Sharon!'] });
    assert.deepEqual((await agent.get('/me')).body.messages, []);
    await agent.post('/logout').expect(200);
    assert.deepEqual((await agent.get('/me')).body.user, null);
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
