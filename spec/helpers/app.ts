import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { after } from 'node:test';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { session } from '../../src';
import { quietLogger, testSecret } from './stores';

/** An Express error handler that answers an error's status with its name and message as JSON. */
export function answerErrors(
  error: { status?: number; name?: string; message: string },
  _request: Request,
  response: Response,
  next: NextFunction,
): void {
  if (response.headersSent) return next(error);
  response.status(error.status ?? 500).json({ name: error.name, message: error.message });
}

/** An Express app whose routes exercise `request.session` the way the docs do. */
export function createTestApp(options: SessionOptions = {}) {
  const handler = session({ secret: testSecret, logger: quietLogger, ...options });
  const app = express();
  app.use(express.json());
  app.use(handler);
  app.get('/session', (request: Request, response: Response) => {
    response.json({ id: request.sessionID, data: request.session });
  });
  app.get('/untouched', (_request: Request, response: Response) => {
    response.send('ok');
  });
  app.put('/keys/:key', (request: Request, response: Response) => {
    request.session![request.params.key as string] = request.body.value;
    setTimeout(() => response.json({ id: request.sessionID }), Number(request.query.delay ?? 0));
  });
  app.delete('/keys/:key', (request: Request, response: Response) => {
    request.session![request.params.key as string] = null;
    response.send('deleted');
  });
  app.post('/push/:key', (request: Request, response: Response) => {
    const list = (request.session![request.params.key as string] ??= []) as unknown[];
    list.push(request.body.value);
    response.send('pushed');
  });
  // session.increment / session.push, then the plain writes of `set` (other keys, or the same key after)
  app.post('/increment/:key', (request: Request, response: Response) => {
    const value = request.session!.increment(request.params.key as string, request.body?.by ?? 1);
    Object.assign(request.session!, request.body?.set);
    // a save the app does not wait for, then the end's own save
    if (request.query.save === 'early') void request.session!.save();
    setTimeout(() => response.json({ value }), Number(request.query.delay ?? 0));
  });
  app.post('/append/:key', (request: Request, response: Response) => {
    const list = request.session!.push(request.params.key as string, request.body?.value);
    Object.assign(request.session!, request.body?.set);
    setTimeout(() => response.json({ length: list.length }), Number(request.query.delay ?? 0));
  });
  app.post('/flash/:key', (request: Request, response: Response) => {
    request.session!.flashNext(request.params.key as string, request.body.value);
    response.send('flashed');
  });
  app.post('/regenerate', (request: Request, response: Response) => {
    request.session!.regenerate({ keepData: request.query.keep === 'yes' }, () =>
      response.send('Session was regenerated'),
    );
  });
  app.post('/destroy', (request: Request, response: Response, next) => {
    request.session!.destroy((error) => (error ? next(error) : response.send('destroyed')));
  });
  app.use(answerErrors);
  app.post('/save-then-stream', (request: Request, response: Response) => {
    request.session!.streamed = true;
    response.writeHead(200, { 'Content-Type': 'text/plain' });
    response.write('part one,');
    setTimeout(() => response.end('part two'), 5);
  });
  return { app, handler };
}

export function agentFor(options: SessionOptions = {}) {
  const { app, handler } = createTestApp(options);
  return { agent: supertest.agent(app), app, handler };
}

export function setCookieOf(response: { headers: Record<string, unknown> }): string[] {
  const header = response.headers['set-cookie'];
  return Array.isArray(header) ? (header as string[]) : [];
}

/** The `name=value` part of the session cookie a response set. */
export function sessionCookieOf(
  response: { headers: Record<string, unknown> },
  name = 'sid',
): string | undefined {
  return setCookieOf(response)
    .map((line) => line.split(';')[0])
    .find((pair) => pair.startsWith(`${name}=`));
}

/** Listens on a loopback port for the whole test file; closed when the file's tests end. */
export async function listen(
  app: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<Server> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}
