import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import type { ApplyResult, SessionChange } from '../../src';
import { MemoryStore, session } from '../../src';
import { quietLogger, testSecret } from '../helpers/stores';

/** A MemoryStore that changes read and apply only, as an app that logs or a test that fails them would. */
class CountingStore extends MemoryStore {
  reads = 0;
  applies = 0;
  failReads = false;

  override async read(key: string): ReturnType<MemoryStore['read']> {
    this.reads += 1;
    if (this.failReads) throw new Error('the disk is on fire');
    return super.read(key);
  }

  override async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    this.applies += 1;
    return super.apply(key, change, expiresAt);
  }
}

function appOn(store: MemoryStore) {
  const app = express();
  app.use(session({ secret: testSecret, logger: quietLogger, store }));
  app.post('/visit', (request: Request, response: Response) => {
    request.session!.visits = Number(request.session!.visits ?? 0) + 1;
    response.json({ visits: request.session!.visits });
  });
  return app;
}

describe('a subclass of MemoryStore that overrides read and apply, but not their at-once forms', () => {
  it('has its read and apply called for every request, as any store', async () => {
    const store = new CountingStore();
    const agent = supertest.agent(appOn(store));
    await agent.post('/visit').expect(200, { visits: 1 });
    await agent.post('/visit').expect(200, { visits: 2 });
    assert.equal(store.applies, 2, 'both saves went through apply');
    assert.equal(store.reads, 1, 'the second request read through read');
  });

  it('fails a request with 503 when its read fails, instead of reading past it', async () => {
    const store = new CountingStore();
    const agent = supertest.agent(appOn(store));
    await agent.post('/visit').expect(200);
    store.failReads = true;
    await agent.post('/visit').expect(503);
  });
});
