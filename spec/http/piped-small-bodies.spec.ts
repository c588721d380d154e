import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import compression from 'compression';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { MemoryStore, session } from '../../src';
import { quietLogger, temporaryDirectory, testSecret } from '../helpers/stores';

/** A memory store whose saves take a while: the response is held over them. */
class SlowSavingStore extends MemoryStore {
  override async apply(...args: Parameters<MemoryStore['apply']>): ReturnType<MemoryStore['apply']> {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return super.apply(...args);
  }

  override applyNow(): undefined {
    return undefined;
  }
}

// A body piped into the response waits for 'drain' when a write returns false. While the session is saved
// the response's writes are held; compression in front of the session routes the 'drain' listeners of the
// response to its gzip stream, which only emits one when its own buffer filled: a held write of a small body
// must not say "wait for drain", or the pipe waits forever.
describe('a small body piped into a response held while its session is saved', () => {
  const file = join(temporaryDirectory('small-file'), 'note.txt');
  writeFileSync(file, 'a short note\n'.repeat(40));

  for (const order of ['compression first', 'session first'] as const) {
    for (const store of ['memory', 'slow'] as const) {
      it(`is answered, gzipped, and the session saved (${order}, ${store} store)`, async () => {
        const app = express();
        const sessions = session({
          secret: testSecret,
          logger: quietLogger,
          store: store === 'slow' ? new SlowSavingStore() : new MemoryStore(),
        });
        const gzip = compression({ threshold: 0 });
        if (order === 'compression first') app.use(gzip, sessions);
        else app.use(sessions, gzip);
        const count = (request: Request) =>
          (request.session!.count = ((request.session!.count as number | undefined) ?? 0) + 1);
        app.get('/file', (request: Request, response: Response) => {
          count(request);
          response.sendFile(file);
        });
        app.get('/stream', (request: Request, response: Response) => {
          count(request);
          response.type('text/plain');
          Readable.from(['one,', 'two,', 'three']).pipe(response);
        });
        app.get('/count', (request: Request, response: Response) =>
          response.send(String(request.session!.count)),
        );
        const agent = supertest.agent(app);
        const sent = await agent.get('/file').set('Accept-Encoding', 'gzip').timeout(3000).expect(200);
        assert.equal(sent.headers['content-encoding'], 'gzip');
        assert.equal(sent.text, 'a short note\n'.repeat(40));
        const streamed = await agent.get('/stream').set('Accept-Encoding', 'gzip').timeout(3000).expect(200);
        assert.equal(streamed.text, 'one,two,three');
        await agent.get('/count').expect(200, '2');
      });
    }
  }
});
