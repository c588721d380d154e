import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import type { Request, Response } from 'express';
import supertest from 'supertest';
import { WebSocket, WebSocketServer } from 'ws';
import { Server as SocketIoServer } from 'socket.io';
import type { Socket as SocketIoServerSocket } from 'socket.io';
import { io as socketIoClient } from 'socket.io-client';
import type { Socket as SocketIoClient } from 'socket.io-client';
import type { LoadedSession, NextFunction, SessionHandler, SessionOptions } from '../../src';
import { SessionStoreUnavailableError, createSessionMiddleware, session } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { SwitchableStore } from '../helpers/switchable-store';
import { quietLogger, storesUnderTest, testSecret } from '../helpers/stores';

/** What a socket asks of its session; the server answers with the session's data, or the error's message. */
type Command = { op: 'read' } | { op: 'set'; key: string; value: unknown } | { op: 'reload' };
type Answer = { data: Record<string, unknown>; id: string } | { error: string };

async function perform(current: LoadedSession, command: Command): Promise<Answer> {
  try {
    if (command.op === 'set') {
      current[command.key] = command.value;
      await current.save();
    }
    if (command.op === 'reload') await current.reload();
    return { data: current.all(), id: current.id };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const sessionOf = (request: IncomingMessage) => (request as { session?: LoadedSession }).session;

/** An engine.io middleware after the session's that writes to the session of each handshake (no `sid` yet). */
function countHandshakes(request: IncomingMessage, _response: unknown, next: () => void): void {
  const current = sessionOf(request);
  if (current && !new URL(request.url ?? '/', 'http://localhost').searchParams.has('sid')) {
    current.handshakes = ((current.handshakes as number | undefined) ?? 0) + 1;
  }
  next();
}

/**
 * One HTTP server, as an app has it: Express routes to sign in and to sign out everywhere, a ws server at
 * /ws that loads the session in `upgrade` (`loadSession`), and socket.io at /socket.io with
 * `io.engine.use(handler)`.
 */
class SocketApp {
  readonly server: Server;
  readonly wss = new WebSocketServer({ noServer: true });
  readonly io: SocketIoServer;
  /** Whether each `connection` listener's own `loadSession` resolved to `request.session`. */
  private readonly sameSessionInConnection: boolean[] = [];
  private readonly clients: Array<WebSocket | SocketIoClient> = [];

  constructor(readonly handler: SessionParts) {
    const app = express();
    app.use(handler);
    app.post('/sign-in/:user', (request: Request, response: Response) => {
      request.session.userId = request.params.user;
      request.session.visits = 0;
      response.send('signed in');
    });
    app.get('/session', (request: Request, response: Response) => {
      response.json(request.session.all());
    });
    app.post('/sign-out-everywhere/:user', async (request: Request, response: Response) => {
      response.json({ revoked: await handler.revokeUserSessions(request.params.user as string) });
    });
    app.post('/destroy', async (request: Request, response: Response) => {
      await request.session.destroy();
      response.send('destroyed');
    });
    this.server = createServer(app);
    this.server.on('upgrade', (request: IncomingMessage, socket: NetSocket, head: Buffer) => {
      if (!request.url?.startsWith('/ws')) return;
      handler.loadSession(request).then(
        () => this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request)),
        (error: unknown) => {
          const status = error instanceof SessionStoreUnavailableError ? '503 Service Unavailable' : '500';
          socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
        },
      );
    });
    this.wss.on('connection', (ws: WebSocket, request: IncomingMessage) => {
      void handler.loadSession(request).then((loaded) => {
        this.sameSessionInConnection.push(loaded === sessionOf(request));
      });
      ws.on('message', (raw) => {
        const command = JSON.parse(String(raw)) as Command;
        void perform(sessionOf(request)!, command).then((answer) => ws.send(JSON.stringify(answer)));
      });
    });
    this.io = new SocketIoServer(this.server, { destroyUpgrade: false });
    this.io.engine.use(handler);
    this.io.engine.use(countHandshakes);
    this.io.on('connection', (socket: SocketIoServerSocket) => {
      void handler.loadSession(socket.request).then((loaded) => {
        this.sameSessionInConnection.push(loaded === sessionOf(socket.request));
      });
      socket.on('session', (command: Command, answer: (result: Answer) => void) => {
        void perform(sessionOf(socket.request)!, command).then(answer);
      });
    });
  }

  /** True when every connection since the last call got `request.session` from its `loadSession`. */
  connectionsGotTheSameSession(): boolean {
    const checks = this.sameSessionInConnection.splice(0);
    return checks.length > 0 && checks.every(Boolean);
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async signIn(user: string): Promise<string> {
    return sessionCookieOf(await supertest(this.server).post(`/sign-in/${user}`).expect(200))!;
  }

  async storedData(cookie: string): Promise<Record<string, unknown>> {
    return (await supertest(this.server).get('/session').set('Cookie', cookie).expect(200)).body;
  }

  /** A ws client at /ws sending `headers`; resolves once open, with the 101's headers. */
  async openWs(headers: Record<string, string>): Promise<{ ws: WebSocket; upgradeHeaders: object }> {
    const ws = new WebSocket(`${this.url.replace('http', 'ws')}/ws`, { headers });
    this.clients.push(ws);
    let upgradeHeaders: object = {};
    // 'open' follows 'upgrade' in the same tick
    ws.once('upgrade', (response: IncomingMessage) => (upgradeHeaders = response.headers));
    await once(ws, 'open');
    return { ws, upgradeHeaders };
  }

  async openSocketIo(cookie: string, transport: 'websocket' | 'polling'): Promise<SocketIoClient> {
    const socket = socketIoClient(this.url, {
      transports: [transport],
      extraHeaders: { cookie },
      reconnection: false,
      forceNew: true,
    });
    this.clients.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  }

  async close(): Promise<void> {
    for (const client of this.clients) {
      if (client instanceof WebSocket) client.terminate();
      else client.disconnect();
    }
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    // io.close() closes the http server too
    await new Promise<void>((resolve) => void this.io.close(() => resolve()));
  }
}

async function askWs(ws: WebSocket, command: Command): Promise<Answer> {
  ws.send(JSON.stringify(command));
  const [message] = (await once(ws, 'message')) as [Buffer];
  return JSON.parse(String(message)) as Answer;
}

async function askSocketIo(socket: SocketIoClient, command: Command): Promise<Answer> {
  return (await socket.timeout(10_000).emitWithAck('session', command)) as Answer;
}

const dataOf = (answer: Answer) => {
  assert.ok('data' in answer, `the socket's session failed: ${JSON.stringify(answer)}`);
  return answer.data;
};

/** The middleware and what the app calls besides: from `session()`, or from `createSessionMiddleware()`'s class. */
type SessionParts = ((request: IncomingMessage, response: ServerResponse, next: NextFunction) => void) &
  Pick<SessionHandler, 'loadSession' | 'revokeUserSessions'>;

function middlewareClassParts(options: SessionOptions): SessionParts {
  const SessionMiddleware = createSessionMiddleware(options);
  const middleware = new SessionMiddleware();
  return Object.assign(middleware.use.bind(middleware), {
    loadSession: SessionMiddleware.loadSession,
    revokeUserSessions: SessionMiddleware.revokeUserSessions,
  });
}

function socketApp(options: SessionOptions, from: 'session()' | 'class' = 'session()'): SocketApp {
  const all = { secret: testSecret, logger: quietLogger, userKey: 'userId', ...options };
  const socketApp = new SocketApp(from === 'class' ? middlewareClassParts(all) : session(all));
  before(() => socketApp.listen());
  after(() => socketApp.close());
  return socketApp;
}

for (const store of storesUnderTest) {
  describe(`WebSockets (ws) with handler.loadSession(request), ${store.name}`, () => {
    const app = socketApp(store.options());

    it('reads the signed-in session, and its save() is what the next HTTP request reads', async () => {
      const cookie = await app.signIn('ada');
      const { ws, upgradeHeaders } = await app.openWs({ cookie });
      assert.deepEqual(dataOf(await askWs(ws, { op: 'read' })), { userId: 'ada', visits: 0 });
      assert.equal('set-cookie' in upgradeHeaders, false, 'the handshake sends no cookie');
      assert.deepEqual(dataOf(await askWs(ws, { op: 'set', key: 'visits', value: 1 })), {
        userId: 'ada',
        visits: 1,
      });
      assert.deepEqual(await app.storedData(cookie), { userId: 'ada', visits: 1 });
      assert.ok(
        app.connectionsGotTheSameSession(),
        'loadSession in `connection`: the session `upgrade` loaded',
      );
    });

    it("reload() reads what HTTP requests stored meanwhile, and the socket's later save keeps it", async () => {
      const cookie = await app.signIn('grace');
      const { ws } = await app.openWs({ cookie });
      await supertest(app.server).post('/sign-in/grace').set('Cookie', cookie).expect(200);
      await askWs(ws, { op: 'set', key: 'theme', value: 'dark' });
      assert.deepEqual(dataOf(await askWs(ws, { op: 'reload' })), {
        userId: 'grace',
        visits: 0,
        theme: 'dark',
      });
    });

    it('reload() rejects with "failed to load session" once the user is signed out everywhere', async () => {
      const cookie = await app.signIn('linus');
      const { ws } = await app.openWs({ cookie });
      assert.equal(dataOf(await askWs(ws, { op: 'read' })).userId, 'linus');
      const revoked = await supertest(app.server).post('/sign-out-everywhere/linus').expect(200);
      assert.equal(revoked.body.revoked, 1);
      assert.deepEqual(await askWs(ws, { op: 'reload' }), { error: 'failed to load session' });
      await askWs(ws, { op: 'set', key: 'visits', value: 9 });
      assert.deepEqual(await app.storedData(cookie), {}, 'a save after the revoke does not sign it back in');
    });

    it('reload() rejects once the session is destroyed over HTTP', async () => {
      const cookie = await app.signIn('barbara');
      const { ws } = await app.openWs({ cookie });
      await supertest(app.server).post('/destroy').set('Cookie', cookie).expect(200);
      assert.deepEqual(await askWs(ws, { op: 'reload' }), { error: 'failed to load session' });
    });

    it('gives a handshake without a cookie, or with a forged one, a new empty session and sends no cookie', async () => {
      for (const headers of [{}, { cookie: 'sid=s%3Aforged.signature' }] as Array<Record<string, string>>) {
        const { ws, upgradeHeaders } = await app.openWs(headers);
        const answer = dataOf(await askWs(ws, { op: 'read' }));
        assert.deepEqual(answer, {});
        assert.equal('set-cookie' in upgradeHeaders, false);
      }
    });
  });

  describe(`socket.io with io.engine.use(handler), ${store.name}`, () => {
    const app = socketApp(store.options());

    for (const transport of ['websocket', 'polling'] as const) {
      it(`reads socket.request.session and saves it (${transport})`, async () => {
        const cookie = await app.signIn(`ada-${transport}`);
        const socket = await app.openSocketIo(cookie, transport);
        const signedIn = { userId: `ada-${transport}`, visits: 0, handshakes: 1 };
        assert.deepEqual(dataOf(await askSocketIo(socket, { op: 'read' })), signedIn);
        await askSocketIo(socket, { op: 'set', key: 'visits', value: 5 });
        assert.deepEqual(await app.storedData(cookie), { ...signedIn, visits: 5 });
        assert.ok(
          app.connectionsGotTheSameSession(),
          'loadSession(socket.request) is socket.request.session',
        );
        socket.disconnect();
      });

      it(`socket.request.session.reload() rejects after a revoke (${transport})`, async () => {
        const cookie = await app.signIn(`linus-${transport}`);
        const socket = await app.openSocketIo(cookie, transport);
        await supertest(app.server).post(`/sign-out-everywhere/linus-${transport}`).expect(200);
        assert.deepEqual(await askSocketIo(socket, { op: 'reload' }), { error: 'failed to load session' });
        socket.disconnect();
      });
    }

    it("saves a polling handshake's changes with its response; a WebSocket handshake's wait for save()", async () => {
      const cookie = await app.signIn('handshakes');
      (await app.openSocketIo(cookie, 'polling')).disconnect();
      assert.equal((await app.storedData(cookie)).handshakes, 1);
      (await app.openSocketIo(cookie, 'websocket')).disconnect();
      assert.equal((await app.storedData(cookie)).handshakes, 1, 'no response ends a WebSocket handshake');
    });

    it('sends the cookie of a new session with a long-polling handshake, an HTTP response', async () => {
      const handshake = await supertest(app.server).get('/socket.io/?EIO=4&transport=polling').expect(200);
      const cookie = sessionCookieOf(handshake);
      assert.ok(cookie, 'the handshake changed the new session: it is stored and its cookie sent');
      assert.deepEqual(await app.storedData(cookie), { handshakes: 1 });
    });

    it('connects without a cookie: an empty session', async () => {
      const socket = await app.openSocketIo('', 'websocket');
      assert.deepEqual(dataOf(await askSocketIo(socket, { op: 'read' })), { handshakes: 1 });
      socket.disconnect();
    });
  });
}

describe("createSessionMiddleware()'s class: SessionMiddleware.loadSession(request)", () => {
  const app = socketApp({ driver: 'memory' }, 'class');

  it("loads the handshake's session; save() stores, reload() rejects after a revoke", async () => {
    const cookie = await app.signIn('ada');
    const { ws } = await app.openWs({ cookie });
    await askWs(ws, { op: 'set', key: 'visits', value: 2 });
    assert.deepEqual(await app.storedData(cookie), { userId: 'ada', visits: 2 });
    await supertest(app.server).post('/sign-out-everywhere/ada').expect(200);
    assert.deepEqual(await askWs(ws, { op: 'reload' }), { error: 'failed to load session' });
  });
});

describe('loadSession with the session id in a header (option header)', () => {
  const app = socketApp({ driver: 'memory', header: { name: 'X-Session-Id', cookie: false } });

  it("reads the id from the handshake's header", async () => {
    const signedIn = await supertest(app.server).post('/sign-in/ada').expect(200);
    const sessionId = signedIn.headers['x-session-id'] as string;
    const { ws } = await app.openWs({ 'X-Session-Id': sessionId });
    assert.deepEqual(dataOf(await askWs(ws, { op: 'read' })), { userId: 'ada', visits: 0 });
  });
});

describe('WebSockets when the store is down', () => {
  const store = new SwitchableStore();
  const app = socketApp({ store });
  const anonymousApp = socketApp({ store, onStoreError: 'anonymous' });

  it('loadSession rejects with the store error: the handshake is refused and the process goes on', async () => {
    const cookie = await app.signIn('ada');
    store.mode = 'failing';
    try {
      const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws`, { headers: { cookie } });
      const [, response] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
      assert.equal(response.statusCode, 503);
      response.destroy();
    } finally {
      store.mode = 'up';
    }
    const { ws } = await app.openWs({ cookie });
    assert.equal(dataOf(await askWs(ws, { op: 'read' })).userId, 'ada');
  });

  it("with onStoreError: 'anonymous', gives the socket an empty session that save() does not store", async () => {
    const cookie = await anonymousApp.signIn('linus');
    store.mode = 'failing';
    let answer: Answer;
    try {
      const { ws } = await anonymousApp.openWs({ cookie });
      answer = await askWs(ws, { op: 'set', key: 'visits', value: 3 });
    } finally {
      store.mode = 'up';
    }
    assert.deepEqual(dataOf(answer), { visits: 3 });
    assert.deepEqual(await anonymousApp.storedData(cookie), { userId: 'linus', visits: 0 });
  });

  it('refuses a socket.io handshake whose session cannot be loaded, and serves the next one', async () => {
    const cookie = await app.signIn('grace');
    store.mode = 'failing';
    try {
      await assert.rejects(app.openSocketIo(cookie, 'websocket'));
    } finally {
      store.mode = 'up';
    }
    const socket = await app.openSocketIo(cookie, 'websocket');
    assert.equal(dataOf(await askSocketIo(socket, { op: 'read' })).userId, 'grace');
    socket.disconnect();
  });
});

describe('loadSession with named sessions: each handler loads its own session of the handshake', () => {
  for (const store of storesUnderTest) {
    const user = session({ secret: testSecret, logger: quietLogger, driver: 'memory' });
    const admin = session({
      name: 'admin',
      secret: `${testSecret} (admin)`,
      logger: quietLogger,
      ...store.options(),
    });
    const app = express();
    app.use(user, admin);
    app.post('/sign-in', (request: Request, response: Response) => {
      request.session.user = 'sharon';
      request.sessions.admin!.admin = 'asif';
      response.send('signed in');
    });
    const server = createServer(app);
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws: WebSocket, request: IncomingMessage) => {
      // both at once, in the order the app's middlewares did not run them
      void Promise.all([admin.loadSession(request), user.loadSession(request)]).then(
        ([adminSession, userSession]) =>
          ws.send(JSON.stringify({ admin: adminSession.all(), user: userSession.all() })),
        (error: unknown) => ws.send(JSON.stringify({ error: (error as Error).message })),
      );
    });
    before(async () => {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    });
    after(async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      server.close();
    });

    it(`gives admin.loadSession the admin session and user.loadSession the user's (${store.name})`, async () => {
      const signedIn = await supertest(server).post('/sign-in').expect(200);
      const cookie = [sessionCookieOf(signedIn), sessionCookieOf(signedIn, 'admin')].join('; ');
      const port = (server.address() as AddressInfo).port;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { cookie } });
      const [message] = (await once(ws, 'message')) as [Buffer];
      ws.terminate();
      assert.deepEqual(JSON.parse(String(message)), { admin: { admin: 'asif' }, user: { user: 'sharon' } });
    });
  }
});
