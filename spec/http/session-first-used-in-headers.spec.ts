import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import { MemoryStore, session } from '../../src';
import { quietLogger, testSecret } from '../helpers/stores';

/** A memory store whose saves take a while, as over a network. */
class SlowSavingStore extends MemoryStore {
  override async apply(...args: Parameters<MemoryStore['apply']>): ReturnType<MemoryStore['apply']> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return super.apply(...args);
  }

  override applyNow(): undefined {
    return undefined;
  }
}

/** Writes to the session as the headers go out, the way on-headers (morgan, response-time) wraps writeHead. */
function stampOnHeaders(request: Request, response: Response, next: NextFunction) {
  const writeHead = response.writeHead as (...args: unknown[]) => Response;
  response.writeHead = function (this: Response, ...args: unknown[]) {
    request.session!.stampedAt = 1;
    return writeHead.apply(this, args);
  } as Response['writeHead'];
  next();
}

// A request without a cookie builds its session when it first touches it. If that is inside the header write
// of a response that was not watched until then (its end() already under way), the session must not hold
// back the header write that end() is waiting for: the client gets a whole, valid HTTP response.
describe('a session first built and changed while the response writes its headers', () => {
  for (const order of ['stamp before the session', 'stamp after the session'] as const) {
    for (const store of ['memory', 'slow'] as const) {
      it(`answers a valid response, every time (${order}, ${store} store)`, async () => {
        const app = express();
        const sessions = session({
          secret: testSecret,
          logger: quietLogger,
          store: store === 'slow' ? new SlowSavingStore() : new MemoryStore(),
        });
        if (order === 'stamp before the session') app.use(stampOnHeaders, sessions);
        else app.use(sessions, stampOnHeaders);
        app.get('/page', (_request: Request, response: Response) => {
          response.send('the page');
        });
        // the first request of an app runs before its prototypes are prepared: the later ones are the test
        for (let round = 0; round < 3; round += 1) {
          const answer = await supertest(app).get('/page').timeout(2000);
          assert.equal(answer.status, 200);
          assert.equal(answer.text, 'the page');
        }
      });
    }
  }
});
