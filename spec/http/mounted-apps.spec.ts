import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerResponse } from 'node:http';
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

// An app may dispatch a request again into a response of its own (a sub-request whose output it collects): the
// session's hold and end belong to the response the request came with, not to every response of the request.
for (const store of [memoryStore, fileStore]) {
  describe(`a request dispatched again into another response, on the ${store.name} store`, () => {
    function appWithSubRequest(outerEndsFirst: boolean) {
      const app = express();
      const inners: ServerResponse[] = [];
      app.use(session({ secret: testSecret, logger: quietLogger, ...store.options() }));
      app.get('/inner', (_request: Request, response: Response) => {
        response.setHeader('x-inner', String(response.headersSent));
        response.end('inner body');
      });
      app.get('/outer', (request: Request, response: Response, next: NextFunction) => {
        request.session!.visits = Number(request.session!.visits ?? 0) + 1;
        const dispatchInner = () => {
          const inner = new ServerResponse(request);
          inners.push(inner);
          const { url } = request;
          request.url = '/inner';
          (app as unknown as { handle: (...args: unknown[]) => void }).handle(request, inner, next);
          request.url = url;
        };
        if (outerEndsFirst) {
          response.send('outer body');
          dispatchInner();
        } else {
          dispatchInner();
          setTimeout(() => response.send('outer body'), 20);
        }
      });
      return { app, inners };
    }

    for (const outerEndsFirst of [false, true]) {
      it(`answers each response with its own body (the outer one ending ${outerEndsFirst ? 'first' : 'last'})`, async () => {
        const { app, inners } = appWithSubRequest(outerEndsFirst);
        const agent = supertest.agent(app);
        for (const visits of [1, 2]) {
          const response = await agent.get('/outer').expect(200);
          assert.equal(response.text, 'outer body');
          assert.equal(response.headers['x-inner'], undefined);
          const inner = inners.at(-1)!;
          assert.equal(inner.writableEnded, true, 'the inner response ended');
          assert.equal(inner.getHeader('x-inner'), 'false', 'the inner response was never held');
          if (visits === 1) assert.ok(sessionCookieOf(response), 'the cookie of the new session is sent');
        }
      });
    }
  });
}
