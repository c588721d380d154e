/**
 * One benchmark server per process: `node build/bench/servers.js <kind>`. Prints `{"port":N}` once listening.
 * Every kind answers the same routes: /login (puts a user in the session), /login-large (a user and 40 KB
 * more), /counter (read and increment, a write every request), /user (read the user only) and /plain (never
 * touches the session). The 'lean' kinds are the lean reference (bench/lean/): our design with the least work.
 */
import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import connectPgSimple from 'connect-pg-simple';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import express from 'express';
import type { Request, Response } from 'express';
import expressSession from 'express-session';
import { createClient } from 'redis';
import { Controller, Get, Res, useExpressServer } from 'routing-controllers';
import sessionFileStore from 'session-file-store';
import type { SessionOptions } from '../src';
import { Session, SessionValue, createSessionMiddleware, session } from '../src';
import type { LeanKind } from './lean/kinds';
import { leanKinds, leanRedisPrefix, leanSessionFor } from './lean/kinds';

export const serverKinds = [
  'bare express',
  'express + no-op middleware',
  'express-session memory',
  'express-session file',
  'express-session redis',
  'express-session postgres',
  'rcs memory',
  'rcs file',
  'rcs redis',
  'rcs postgres',
  'rcs memory + decorators',
  ...leanKinds,
] as const;
export type ServerKind = (typeof serverKinds)[number];

const secret = 'a benchmark secret that is long enough for production';
const user = { id: 1, name: 'Sharon', roles: ['admin'] };
/** 40 KB of session data beside the user: what a cart or a wizard's state can weigh. */
const largeData = Array.from({ length: 400 }, (_, index) => ({ item: index, note: 'x'.repeat(80) }));
const redisUrl = 'redis://127.0.0.1:6379';
export const redisPrefixes = ['bench-es:', 'bench-rcs', leanRedisPrefix];
const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
/** connect-pg-simple's table and ours, dropped after each server. */
export const postgresTables = ['bench_es_sessions', 'bench_rcs_sessions'];
type Data = Record<string, unknown>;

function classicRoutes(app: express.Express): void {
  app.get('/login', (request: Request, response: Response) => {
    if (request.session) (request.session as unknown as Data).user = user;
    response.send('ok');
  });
  app.get('/login-large', (request: Request, response: Response) => {
    if (request.session) Object.assign(request.session, { user, largeData });
    response.send('ok');
  });
  app.get('/counter', (request: Request, response: Response) => {
    const data = (request.session ?? {}) as unknown as Data;
    data.counter = ((data.counter as number | undefined) ?? 0) + 1;
    response.json({ counter: data.counter });
  });
  app.get('/user', (request: Request, response: Response) => {
    response.json({ user: (request.session as unknown as Data | undefined)?.user ?? user });
  });
  app.get('/plain', (_request: Request, response: Response) => {
    response.send('ok');
  });
}

@Controller()
class BenchController {
  @Get('/login')
  login(@Session() current: Session, @Res() response: Response) {
    current.user = user;
    return response.send('ok');
  }

  @Get('/login-large')
  loginLarge(@Session() current: Session, @Res() response: Response) {
    Object.assign(current, { user, largeData });
    return response.send('ok');
  }

  @Get('/counter')
  counter(@Session() current: Session) {
    current.counter = ((current.counter as number | undefined) ?? 0) + 1;
    return { counter: current.counter };
  }

  @Get('/user')
  user(@SessionValue<typeof user>('user') loggedIn: typeof user) {
    return { user: loggedIn };
  }

  @Get('/plain')
  plain(@Res() response: Response) {
    return response.send('ok');
  }
}

async function expressSessionStore(kind: ServerKind): Promise<expressSession.Store | undefined> {
  if (kind === 'express-session file') {
    const FileStore = sessionFileStore(expressSession);
    return new FileStore({ path: mkdtempSync(join(tmpdir(), 'bench-sfs-')), logFn: () => undefined });
  }
  if (kind === 'express-session redis') {
    const client = createClient({ url: redisUrl });
    await client.connect();
    return new ConnectRedisStore({ client, prefix: redisPrefixes[0] });
  }
  if (kind === 'express-session postgres') {
    const PgStore = connectPgSimple(expressSession);
    return new PgStore({
      conString: postgresUrl,
      tableName: postgresTables[0],
      createTableIfMissing: true,
      pruneSessionInterval: false,
    });
  }
  return undefined;
}

function ourOptions(kind: ServerKind): SessionOptions {
  const base: SessionOptions = { secret, logger: { warn: () => undefined, error: console.error } };
  if (kind === 'rcs file')
    return { ...base, driver: 'file', file: { directory: mkdtempSync(join(tmpdir(), 'bench-rcs-')) } };
  if (kind === 'rcs redis')
    return { ...base, driver: 'redis', redis: { url: redisUrl, prefix: redisPrefixes[1] } };
  if (kind === 'rcs postgres')
    return { ...base, driver: 'postgres', postgres: { url: postgresUrl, table: postgresTables[1] } };
  return { ...base, driver: 'memory' };
}

export async function createBenchApp(kind: ServerKind): Promise<express.Express> {
  const app = express();
  if (kind === 'rcs memory + decorators') {
    useExpressServer(app, {
      controllers: [BenchController],
      middlewares: [createSessionMiddleware(ourOptions(kind))],
    });
    return app;
  }
  if (kind === 'express + no-op middleware') {
    app.use((_request: Request, _response: Response, next: () => void) => next());
  } else if (kind.startsWith('express-session')) {
    const store = await expressSessionStore(kind);
    app.use(expressSession({ secret, resave: false, saveUninitialized: false, store }));
  } else if (kind.startsWith('rcs')) {
    app.use(session(ourOptions(kind)));
  } else if (kind.startsWith('lean')) {
    app.use(await leanSessionFor(app, kind as LeanKind, secret, redisUrl));
  }
  classicRoutes(app);
  return app;
}

if (require.main === module) {
  const kind = process.argv[2] as ServerKind;
  if (!serverKinds.includes(kind))
    throw new Error(`unknown server kind ${kind}; one of ${serverKinds.join(', ')}`);
  void createBenchApp(kind).then((app) => {
    const server = app.listen(0, '127.0.0.1', () => {
      process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
    });
    process.on('SIGTERM', () => process.exit(0));
  });
}
