import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import { session } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { fileStore, memoryStore, quietLogger, testSecret } from '../helpers/stores';

// Express hands a request back from a mounted app to its parent by putting the parent's request and response
// prototypes back on it: what the session put on the mounted app's prototypes must hold there too.
for (const store of [memoryStore, fileStore]) {
  describe(`a session middleware inside a mounted Express app, on the ${store.name} store`, () => {
    function appsWithSessionInSubApp() {
      const parent = express();
      const sub = express();
      sub.use(session({ secret: testSecret, logger: quietLogger, ...store.options() }));
      sub.use((request: Request, _response: Response, next: NextFunction) => {
        request.session!.visits = Number(request.session!.visits ?? 0) + 1;
        next();
      });
      sub.get('/answered-in-sub-app', (request: Request, response: Response, next: NextFunction) => {
        request.session!.sub = true;
        response.json({ id: request.sessionID });
        // as routing-controllers does after its action: the request goes on to the parent's 404 handler
        next();
      });
      parent.use(sub);
      parent.get('/answered-in-parent', (request: Request, response: Response) => {
        response.json({ id: request.sessionID, visits: request.session?.visits });
      });
      return parent;
    }

    it("is read, saved and sent its cookie when the parent app's route answers", async () => {
      const agent = supertest.agent(appsWithSessionInSubApp());
      const first = await agent.get('/answered-in-parent').expect(200);
      assert.equal(typeof first.body.id, 'string', 'request.sessionID reads in the parent');
      assert.equal(first.body.visits, 1, 'request.session reads in the parent');
      assert.ok(sessionCookieOf(first), 'the cookie of the new session is sent');
      const second = await agent.get('/answered-in-parent').expect(200);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.visits, 2, 'the first request was saved');
    });

    it("is saved once when the mounted app's route answers and the request goes on to the parent", async () => {
      const agent = supertest.agent(appsWithSessionInSubApp());
      const first = await agent.get('/answered-in-sub-app').expect(200);
      assert.ok(sessionCookieOf(first));
      const second = await agent.get('/answered-in-parent').expect(200);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.visits, 2);
    });
  });
}
