import { ServerResponse } from 'node:http';
import { holdResponse } from './response-hold';
import { sharedPrototypeOf } from './shared-prototype';
import { sessionsAtResponse } from './response-sessions';
import { peekResponseState, responseStateOf } from './accessors';

/** Store work the end of a response waits for, and whether its failure would lose data or a removal. */
export interface EndWork {
  dataAtRisk: boolean;
  commit(): Promise<void>;
  /** Does the work at once where it can (a store in this process): true when done; throws when it failed. */
  commitNow(): boolean;
}

/** What the response hooks ask of the request's session. */
export interface SessionAtResponse {
  /** Sets the session's Set-Cookie header if the response needs one (`stored`: the session is stored); returns it. */
  applyCookie(stored: boolean): string | readonly string[] | undefined;
  /** Whether the session is in the store (asked once its store work at the end is done, or there is none). */
  isStored(): boolean;
  /** The store work ending now needs, decided once; undefined when there is none. */
  workAtEnd(): EndWork | undefined;
  /** Answers the request with an error (or closes it when the headers are out). */
  fail(error: unknown): void;
  /** Reports an error that lost nothing, after the response. */
  reportAfterResponse(error: unknown): void;
}

type Method = (...args: unknown[]) => unknown;
type Hooked = 'writeHead' | 'write' | 'end';
const hookedMethods: readonly Hooked[] = ['writeHead', 'write', 'end'];

/**
 * - watching: the session decides at the first byte and at the end
 * - ended: `end()` has gone through; later calls go straight on (end's own header write among them), but a
 *   second end
 * - failing: a failure is being answered; all three go straight on
 * - discarding: the failure has been answered; the app's later calls go nowhere
 */
type WatchMode = 'watching' | 'ended' | 'failing' | 'discarding';

const watchOf = (response: ServerResponse): ResponseWatch | undefined =>
  peekResponseState(response)?.responseWatch as ResponseWatch | undefined;

/**
 * One response's part in the saving: the session asked at the first byte and at the end, and the calls held
 * while its store work runs. `original` is what a hooked call goes on to: the inherited method, or the
 * method another middleware put on the response before the session was attached.
 */
class ResponseWatch {
  mode: WatchMode = 'watching';
  /** The hooked method whose call is going on to its original: the prototype's hook of it lets it through. */
  passing: Hooked | undefined;
  private held: Array<() => void> | undefined;
  private drainOwed = false;
  /** Bytes written while held, not yet replayed. */
  private heldBytes = 0;
  private saveFailed = false;
  private saving: Promise<unknown> | undefined;

  constructor(
    private readonly response: ServerResponse,
    private session: SessionAtResponse,
  ) {}

  /** Another session middleware's session on this response (named sessions): each is saved, each sets its cookie. */
  watchAlso(session: SessionAtResponse): void {
    this.session = sessionsAtResponse(this.session, session);
  }

  call(method: Hooked, original: Method, args: unknown[]): unknown {
    if (this.mode === 'discarding') return method === 'write' ? true : this.response;
    if (this.mode !== 'watching') {
      // a second end() is ignored, as express-session ignores it (Node would emit an error no one hears)
      if (method === 'end' && this.response.writableEnded) return this.response;
      return this.pass(method, original, args);
    }
    if (method === 'writeHead') return this.writeHead(original, args);
    if (method === 'write') return this.write(original, args);
    return this.end(original, args);
  }

  private pass(method: Hooked, original: Method, args: unknown[]): unknown {
    const { passing } = this;
    this.passing = method;
    try {
      return original.apply(this.response, args);
    } finally {
      this.passing = passing;
    }
  }

  private writeHead(original: Method, args: unknown[]): unknown {
    if (this.held || this.firstByte()) {
      this.later('writeHead', original, args);
      return this.response;
    }
    const header = this.session.applyCookie(!this.saveFailed && this.session.isStored());
    return this.pass('writeHead', original, header === undefined ? args : keepCookieInHeaders(args, header));
  }

  private write(original: Method, args: unknown[]): unknown {
    if (this.held || (!this.response.headersSent && this.firstByte())) {
      this.later('write', original, args);
      // as a stream says: wait for 'drain' only once a buffer's worth is held. A 'drain' listener may not
      // be on the response (compression moves them to its gzip stream), and only a full buffer is sure to
      // make whatever holds it emit one after the replay.
      this.heldBytes += byteLengthOf(args[0], args[1]);
      if (this.heldBytes < this.response.writableHighWaterMark) return true;
      this.drainOwed = true;
      return false;
    }
    return this.pass('write', original, args);
  }

  private end(original: Method, args: unknown[]): unknown {
    const { response, session } = this;
    if (this.held) {
      this.later('end', original, args);
      return response;
    }
    if (response.writableEnded) return response;
    const work = session.workAtEnd();
    let failedNow: unknown;
    let doneNow = false;
    try {
      doneNow = work !== undefined && work.commitNow();
    } catch (error) {
      failedNow = error ?? new Error('the session could not be saved');
    }
    const finish = (saved: boolean) => {
      try {
        session.applyCookie(saved && session.isStored());
      } finally {
        this.mode = 'ended';
      }
      return this.pass('end', original, args);
    };
    if (failedNow !== undefined) {
      this.holdFor({ ...work!, commit: () => Promise.reject(failedNow) }, finish);
      return response;
    }
    if (!work || doneNow) return finish(!this.saveFailed);
    this.holdFor(work, finish);
    return response;
  }

  /** At the first byte: hold the response if the session has store work, else let it through. */
  private firstByte(): boolean {
    if (this.saving) return false;
    const work = this.session.workAtEnd();
    if (!work) return false;
    // the cookie is set by the writeHead that the replay makes
    this.holdFor(work, () => undefined);
    return true;
  }

  /** Makes the call again when the hold is released: through these hooks, even if the app wrapped them since. */
  private later(method: Hooked, original: Method, args: unknown[]): void {
    this.held!.push(() => this.call(method, original, args));
  }

  /** Holds the response while the store work runs, then replays the calls made meanwhile, or fails it. */
  private holdFor({ dataAtRisk, commit }: EndWork, resume: (saved: boolean) => unknown): void {
    const { response, session } = this;
    const release = holdResponse(response);
    this.held = [];
    const settle = (error: unknown) => {
      const calls = this.held ?? [];
      this.held = undefined;
      try {
        release(() => this.resumeAfter(error, dataAtRisk, resume, calls));
      } catch (failure) {
        session.fail(failure);
      }
    };
    this.saving = commit().then(
      () => settle(undefined),
      (error: unknown) => settle(error ?? new Error('the session could not be saved')),
    );
  }

  private resumeAfter(
    error: unknown,
    dataAtRisk: boolean,
    resume: (saved: boolean) => unknown,
    calls: Array<() => void>,
  ): void {
    this.saveFailed = error !== undefined;
    try {
      if (this.saveFailed && dataAtRisk) throw error;
      resume(!this.saveFailed);
      for (const call of calls) call();
    } catch (failure) {
      this.mode = 'failing';
      this.session.fail(failure);
      this.mode = 'discarding';
      return;
    }
    if (this.drainOwed) this.response.emit('drain');
    this.drainOwed = false;
    this.heldBytes = 0;
    if (error !== undefined) this.session.reportAfterResponse(error);
  }
}

function byteLengthOf(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(
      chunk,
      Buffer.isEncoding(encoding as string) ? (encoding as BufferEncoding) : 'utf8',
    );
  }
  return ArrayBuffer.isView(chunk) ? chunk.byteLength : 0;
}

/**
 * The response whose hooked call is under way while it had no watch. A session first built inside it (in a
 * header listener that end() set off) must not hold back the calls that call is making: Node's end() would
 * write the body without the headers it is waiting for.
 */
let unwatchedCall: ServerResponse | undefined;

/** The three hooks for a response object or prototype whose own methods are `inherited`. */
function hooksOver(inherited: Record<Hooked, Method>): Record<Hooked, Method> {
  const hook = (method: Hooked) => {
    const original = inherited[method];
    // `arguments` handed on as is: no array is made for a response that has no session work
    return function (this: ServerResponse): unknown {
      const watch = watchOf(this);
      if (watch === undefined) {
        // a second end() is ignored, as express-session ignores it (Node would emit an error no one hears)
        if (method === 'end' && this.writableEnded) return this;
        const outer = unwatchedCall;
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- which response, not a closure's `this`
        unwatchedCall = this;
        try {
          // eslint-disable-next-line prefer-rest-params
          return original.apply(this, arguments as unknown as unknown[]);
        } finally {
          unwatchedCall = outer;
        }
      }
      if (watch.passing === method || unwatchedCall === this) {
        if (method === 'end' && this.writableEnded) return this;
        // eslint-disable-next-line prefer-rest-params
        return original.apply(this, arguments as unknown as unknown[]);
      }
      // eslint-disable-next-line prefer-rest-params
      return watch.call(method, original, Array.from(arguments));
    };
  };
  return { writeHead: hook('writeHead'), write: hook('write'), end: hook('end') };
}

const preparedPrototypes = new WeakSet<object>();
let nodeResponseHooks: Record<Hooked, Method> | undefined;
const isNodeHook = (method: Hooked, candidate: unknown) => nodeResponseHooks?.[method] === candidate;

/**
 * Puts the hooks on the response's prototype (Express's response object, which every app's inherits), once: a
 * response with no session work then costs nothing but a property read, and no response gets closures or
 * properties of its own. Node's own ServerResponse.prototype serves every response of the process and is left
 * alone: on a bare Node server the hooks are put on each response.
 */
export function prepareResponse(response: ServerResponse): void {
  const prototype = sharedPrototypeOf(response, ServerResponse.prototype) as Record<Hooked, Method>;
  if (prototype === (response as unknown)) {
    if (Object.getPrototypeOf(response) === ServerResponse.prototype) {
      nodeResponseHooks ??= hooksOver(ServerResponse.prototype as unknown as Record<Hooked, Method>);
      Object.assign(response, nodeResponseHooks);
    } else {
      // not a Node response at all: hooked over the methods it has
      Object.assign(
        response,
        hooksOver({ writeHead: prototype.writeHead, write: prototype.write, end: prototype.end }),
      );
    }
    return;
  }
  if (preparedPrototypes.has(prototype)) return;
  preparedPrototypes.add(prototype);
  const inherited = { writeHead: prototype.writeHead, write: prototype.write, end: prototype.end };
  for (const [method, value] of Object.entries(hooksOver(inherited))) {
    Object.defineProperty(prototype, method, { configurable: true, writable: true, value });
  }
}

/**
 * Saves before the response's headers and body leave, so that the client's next request reads this one's
 * writes. A response with no store work goes out at once, as it would without a session. Otherwise the
 * response is held from its first byte (writeHead, write or end) until the work is done: its calls are kept
 * in order and replayed (once a buffer's worth is held a write returns false, and 'drain' follows the replay,
 * so a piped file waits instead of filling memory). What fails then is answered by `fail`, with a proper status when the
 * work failed before any header left. A second `end()` is ignored.
 */
export function hookResponse(response: ServerResponse, session: SessionAtResponse): void {
  const watched = response as ServerResponse & Record<Hooked, Method>;
  const watching = watchOf(response);
  if (watching !== undefined) {
    watching.watchAlso(session);
    return;
  }
  const watch = new ResponseWatch(response, session);
  responseStateOf(response).responseWatch = watch;
  // A middleware that ran before this one may have wrapped a method around the one it found then, which may
  // not be the prototype's hook (requests under way when it was put there): that wrapper is hooked too.
  for (const method of hookedMethods) {
    if (!Object.prototype.hasOwnProperty.call(response, method)) continue;
    const own = watched[method] as Method;
    if (isNodeHook(method, own)) continue;
    watched[method] = function (this: ServerResponse, ...args: unknown[]) {
      return watch.passing === method || unwatchedCall === this
        ? own.apply(this, args)
        : watch.call(method, own, args);
    } as never;
  }
}

/**
 * Node lets headers given to writeHead replace the ones set before it, so a Set-Cookie given there would
 * drop the session cookie: it is added to that Set-Cookie instead (headers as an object or a flat array).
 */
export function keepCookieInHeaders(args: unknown[], cookie: string | readonly string[]): unknown[] {
  const index = typeof args[1] === 'string' ? 2 : 1;
  const headers = args[index];
  const isSetCookie = (name: unknown) => typeof name === 'string' && name.toLowerCase() === 'set-cookie';
  const withCookie = (given: unknown) => [
    ...(Array.isArray(given) ? given : [String(given)]),
    ...[cookie].flat(),
  ];
  const copy = [...args];
  if (Array.isArray(headers)) {
    // One Set-Cookie pair holding every value: Node 20 keeps only the last of repeated Set-Cookie pairs.
    const position = headers.findIndex((name, at) => at % 2 === 0 && isSetCookie(name));
    if (position === -1) return args;
    copy[index] = headers.map((item: unknown, at) => (at === position + 1 ? withCookie(item) : item));
    return copy;
  }
  if (typeof headers !== 'object' || headers === null) return args;
  const name = Object.keys(headers).find(isSetCookie);
  if (name === undefined) return args;
  copy[index] = { ...headers, [name]: withCookie((headers as Record<string, unknown>)[name]) };
  return copy;
}
