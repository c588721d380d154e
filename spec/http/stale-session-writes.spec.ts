import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { session } from '../../src';
import { testSecret } from '../helpers/stores';

/**
 * A sign-in the way the issue tells it: `await session.regenerate(); session.userId = 7;` writes to the old
 * object. The app also has the right way (`fresh.userId = 7`) and the same slip after `destroy()`.
 */
function signInApp() {
  const warnings: string[] = [];
  const errors: string[] = [];
  const app = express();
  app.use(
    session({
      secret: testSecret,
      driver: 'memory',
      logger: { warn: (message) => warnings.push(message), error: (message) => errors.push(message) },
    }),
  );
  app.post('/visit', (request: Request, response: Response) => {
    request.session!.visited = true;
    response.send('visited');
  });
  app.post('/sign-in/slip', async (request: Request, response: Response) => {
    const current = request.session!;
    await current.regenerate();
    current.userId = 7;
    current.role = 'admin';
    current.set('theme', 'dark');
    response.send('signed in?');
  });
  app.post('/sign-in/right', async (request: Request, response: Response) => {
    const fresh = await request.session!.regenerate();
    fresh.userId = 7;
    response.send('signed in');
  });
  app.post('/sign-out/slip', async (request: Request, response: Response) => {
    const current = request.session!;
    await current.destroy();
    current.userId = 8;
    delete current.role;
    response.send('signed out');
  });
  app.get('/me', (request: Request, response: Response) => {
    if (request.session!.userId === undefined) response.status(401).send('who are you?');
    else response.json({ userId: request.session!.userId });
  });
  return { agent: supertest.agent(app), warnings, errors };
}

describe('writing to a session object after regenerate() or destroy()', () => {
  const nodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });

  it('warns once, naming the session regenerate() resolves to and request.session; the write is lost as before', async () => {
    const { agent, warnings } = signInApp();
    await agent.post('/visit').expect(200);
    await agent.post('/sign-in/slip').expect(200);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /"userId"/);
    assert.match(warnings[0]!, /after regenerate\(\)/);
    assert.match(warnings[0]!, /not be saved/);
    assert.match(warnings[0]!, /the session regenerate\(\) resolves to/);
    assert.match(warnings[0]!, /request\.session/);
    await agent.get('/me').expect(401);
  });

  it('warns once after destroy(), for a write and for a delete', async () => {
    const { agent, warnings } = signInApp();
    await agent.post('/visit').expect(200);
    await agent.post('/sign-out/slip').expect(200);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /"userId"/);
    assert.match(warnings[0]!, /after destroy\(\)/);
    assert.match(warnings[0]!, /regenerate\(\)/);
  });

  it('says nothing when the app writes to the session regenerate() resolved to', async () => {
    const { agent, warnings } = signInApp();
    await agent.post('/visit').expect(200);
    await agent.post('/sign-in/right').expect(200);
    assert.deepEqual(warnings, []);
    assert.deepEqual((await agent.get('/me').expect(200)).body, { userId: 7 });
  });

  it('says nothing in production', async () => {
    process.env.NODE_ENV = 'production';
    const { agent, warnings } = signInApp();
    await agent.post('/visit').expect(200);
    await agent.post('/sign-in/slip').expect(200);
    assert.deepEqual(warnings, []);
    await agent.get('/me').expect(401);
  });
});
