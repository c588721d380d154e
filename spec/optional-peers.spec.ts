import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { instanceToPlain } from 'class-transformer';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from './helpers/app';
import { quietLogger, testSecret } from './helpers/stores';

describe('routing-controllers, class-validator and class-transformer are optional peers', () => {
  it('a plain Express app runs without them, and the features that need one say which to install', async () => {
    const preload = join(__dirname, 'helpers', 'without-optional-peers.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--require', preload, join(__dirname, 'fixtures', 'plain-express-app.js')],
      { env: process.env },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(report.failed, undefined, String(report.failed));
    assert.deepEqual(report.visits, ['1', '2']);
    assert.deepEqual(report.loaded, []);
    const needs = (feature: string, packages: string) =>
      `SessionConfigError: ${feature} needs ${packages}: npm install ${packages.replace(' and ', ' ')} ` +
      '(optional peer dependencies of routing-controllers-session, used only by its decorators, ' +
      'createSessionMiddleware and the schema option).';
    assert.equal(report.createSessionMiddleware, needs('createSessionMiddleware', 'routing-controllers'));
    assert.equal(report.schema, needs('Option schema', 'class-validator and class-transformer'));
    assert.equal(report.Session, needs('@Session()', 'routing-controllers'));
    assert.equal(report.SessionValue, needs('@SessionValue()', 'routing-controllers'));
  });

  it("keeps session.cookie out of class-transformer's plain output once the app has class-transformer", async () => {
    const { app } = createTestApp({ secret: testSecret, logger: quietLogger });
    app.get('/plain', (request, response) => {
      request.session!.user = 'ada';
      response.json({ keys: Object.keys(request.session!), plain: instanceToPlain(request.session) });
    });
    const answer = await supertest(app).get('/plain');
    assert.ok(sessionCookieOf(answer));
    assert.deepEqual(answer.body, { keys: ['cookie', 'user'], plain: { user: 'ada' } });
  });
});
