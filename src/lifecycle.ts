import { IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { ResolvedSessionConfig } from './config';
import type { UnsignedSessionId } from './cookie';
import type { SessionCookieJSON, SessionCookieOptions } from './cookie';
import { SessionCookie, readSessionId, signSessionId } from './cookie';
import { expiresAt, hasExpired, sessionLimits } from './lifetime';
import {
  SessionConfigError,
  SessionError,
  SessionStoreUnavailableError,
  SessionTooLargeError,
} from './errors';
import { generateSessionId } from './ids';
import type { SessionRecord } from './record';
import { isSecureRequest } from './request-info';
import type { SessionBackend, SessionDataRecord, SessionOf, SessionState } from './session';
import type { SessionChanges } from './change-tracker';
import { ChangeTracker, createDataRecord, hasChanges } from './change-tracker';
import { createSession } from './session';
import type { SessionRecords } from './stores/session-records';
import type { UserSessionIndex } from './user-index';
import { hookResponse } from './response-hooks';
import type { SessionChange } from './stores/atomic-store';
import { ExpressStoreApi } from './stores/express-store-api';

/** Checks session data before it is written (the schema); throws to refuse the save. */
export type SessionDataCheck = (data: SessionDataRecord) => Promise<void>;

/** Checks session data after it is read; returns false when the stored data must be discarded. */
export type SessionDataLoadCheck = (data: SessionDataRecord) => Promise<boolean>;

export interface SessionRequest extends IncomingMessage {
  session?: SessionOf<object> | null;
  sessionID?: string;
  sessionStore?: unknown;
}

/** What this library keeps on a request: which lifecycle owns it, and how to build its session on first use. */
interface RequestSlot {
  lifecycle: SessionLifecycle;
  next?: (error?: unknown) => void;
  buildSession?: () => RequestSession;
}

const requestSlot = Symbol('routing-controllers-session');
type SlottedRequest = IncomingMessage & { [requestSlot]?: RequestSlot };
const preparedPrototypes = new WeakSet<object>();

function ownValue(target: object, property: string, value: unknown): void {
  Object.defineProperty(target, property, { value, writable: true, configurable: true, enumerable: true });
}

/**
 * `request.session`, `request.sessionID` and `request.sessionStore` of a request without a session cookie are
 * accessors on Express's per-app request object, not on each request: accessors defined on every request
 * object slow down every later property access Express makes. Node's own IncomingMessage.prototype is left
 * alone (it is every request's in the process): on a bare Node server they are defined on the request.
 * For a request this library does not manage they read undefined and assign like plain properties.
 */
function prepareRequestAccessors(request: IncomingMessage): void {
  const ownPrototype = Object.getPrototypeOf(request) as object;
  const prototype = ownPrototype === IncomingMessage.prototype ? request : ownPrototype;
  if (preparedPrototypes.has(prototype)) return;
  preparedPrototypes.add(prototype);
  const sessionOf = (request: SlottedRequest) => request[requestSlot]?.buildSession?.();
  const accessor = (property: string, read: (request: SlottedRequest) => unknown) =>
    Object.defineProperty(prototype, property, {
      configurable: true,
      get(this: SlottedRequest) {
        return read(this);
      },
      set(this: SlottedRequest, value: unknown) {
        sessionOf(this);
        ownValue(this, property, value);
      },
    });
  accessor('session', (request) => sessionOf(request)?.session);
  accessor('sessionID', (request) => sessionOf(request)?.state.id);
  accessor('sessionStore', (request) => request[requestSlot]?.lifecycle.sessionStore);
}

/** The path the request was made to, before any router mounting (express-session's `parseurl.original`). */
function originalPathOf(request: IncomingMessage): string {
  const url = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '/';
  if (url.startsWith('/')) return url.split('?')[0]!;
  try {
    return new URL(url).pathname;
  } catch {
    return '/';
  }
}

/** Everything one request knows about its session. */
interface RequestSession {
  request: SessionRequest;
  response: ServerResponse;
  session: SessionOf<object>;
  state: SessionState;
  /** The cookie attributes of this request (the `cookie` option, or what its function returned). */
  cookieOptions: SessionCookieOptions;
  /** The middleware's `next`, for errors that come after the response (express-session passes those too). */
  next: ((error?: unknown) => void) | undefined;
  /** What the app assigned to `request.sessionID`; anything but a string there means: neither save nor send. */
  replacedId?: { value: unknown };
  /** The id the client sent, if its cookie was valid. */
  incomingId: string | undefined;
  /** The cookie was signed with a retired secret and must be re-signed. */
  resign: boolean;
  /** The store failed and onStoreError is 'anonymous': never save. */
  anonymous: boolean;
  destroyed: boolean;
  regenerated: boolean;
  /** The session was saved during this request (by `session.save()`, or before the body): later saves write only changes. */
  savedAlready: boolean;
  wroteChanges: boolean;
  cookieApplied: boolean;
}

export interface LifecycleChecks {
  beforeSave?: SessionDataCheck;
  afterLoad?: SessionDataLoadCheck;
}

/**
 * One request's session, from the cookie to the store and back:
 * load at the start, save before the response's headers leave, and the express-session methods between.
 */
export class SessionLifecycle {
  /** The settings of a cookie made from the options: a session whose cookie differs keeps its own. */
  private readonly defaultCookieSettings: string;
  /** `request.sessionStore`: express-session's Store API over this lifecycle's store. */
  readonly sessionStore: ExpressStoreApi;

  constructor(
    readonly config: ResolvedSessionConfig,
    readonly records: SessionRecords,
    private readonly checks: LifecycleChecks = {},
    readonly userIndex?: UserSessionIndex,
  ) {
    this.defaultCookieSettings = this.newCookie().settings();
    this.sessionStore = new ExpressStoreApi({
      keyv: records.keyv,
      read: (sessionId) => this.readLiveRecord(sessionId),
      write: (sessionId, record, expiry) => this.writeRecord(sessionId, record, expiry),
      touch: (sessionId, expiry) =>
        this.writeRecord(sessionId, (latest) => latest && { data: latest.data, meta: latest.meta }, expiry),
      remove: async (sessionId) => this.removeSession(sessionId, (await this.records.read(sessionId))?.data),
      list: () => records.list(),
    });
  }

  /**
   * Writes a session given whole (express-session's store.set and store.touch) under its lock, keeping its
   * creation time and its user's index; `record` may be a function of the stored one (undefined: write nothing).
   */
  private async writeRecord(
    sessionId: string,
    record: SessionRecord | ((latest: SessionRecord | undefined) => SessionRecord | undefined),
    expiry: number | undefined,
  ): Promise<void> {
    await this.records.withLock(sessionId, async () => {
      const latest = await this.records.read(sessionId);
      const next = typeof record === 'function' ? record(latest) : record;
      if (!next) return;
      const now = Date.now();
      const createdAt = latest?.meta.createdAt ?? next.meta.createdAt;
      const limits = sessionLimits(this.config, next.meta.cookie?.originalMaxAge ?? null);
      const meta = { ...next.meta, createdAt, lastSeenAt: now };
      await this.records.write(
        sessionId,
        { data: next.data, meta },
        expiry ?? expiresAt(limits, createdAt, now),
      );
      await this.userIndex?.relink(
        this.records.keyOf(sessionId),
        this.userIndex.userOf(latest?.data),
        this.userIndex.userOf(next.data),
        undefined,
      );
    });
  }

  /** Removes a session from the store, and from its user's index. */
  private async removeSession(sessionId: string, data: SessionDataRecord | undefined): Promise<void> {
    await this.records.remove(sessionId);
    await this.userIndex?.relink(
      this.records.keyOf(sessionId),
      this.userIndex.userOf(data),
      undefined,
      undefined,
    );
  }

  /**
   * Puts the session on `request.session` and arranges for it to be saved before the response ends.
   * With a valid cookie the record is loaded first (a promise); without one nothing is read, and the new
   * session is only built if the request touches `request.session` (undefined is returned: no await).
   */
  attach(
    request: SessionRequest,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> | undefined {
    const owner = (request as SlottedRequest)[requestSlot]?.lifecycle;
    if (owner === this) return undefined;
    if (owner) {
      throw new SessionConfigError(
        'Two different session middlewares ran for one request. routing-controllers registers every ' +
          "session middleware class in the process when `middlewares` is omitted: list this app's own " +
          '`middlewares: [createSessionMiddleware(options)]`, and mount only one session middleware per app.',
      );
    }
    // As express-session: leave alone a request that another middleware gave a session, one outside the
    // cookie's path, and every request while an express-session store says it is disconnected.
    if (request.session !== undefined && request.session !== null) return undefined;
    const cookieOptions = this.config.cookieFor
      ? { ...this.config.cookie, ...this.config.cookieFor(request) }
      : this.config.cookie;
    if (!originalPathOf(request).startsWith(cookieOptions.path ?? '/')) return undefined;
    if (!this.records.storeConnected) return undefined;
    const slot: RequestSlot = { lifecycle: this, next };
    (request as SlottedRequest)[requestSlot] = slot;
    prepareRequestAccessors(request);
    const cookieId = readSessionId(request, this.config.name, this.config.secrets);
    if (!cookieId) {
      slot.buildSession = () => {
        slot.buildSession = undefined;
        const context = this.createContext(request, response, cookieOptions, undefined, undefined, false);
        this.install(context);
        return context;
      };
      // saveUninitialized stores and sends a cookie for every new session, touched or not
      if (this.config.saveUninitialized) slot.buildSession();
      return undefined;
    }
    return this.load(cookieId).then(({ record, anonymous }) => {
      this.install(this.createContext(request, response, cookieOptions, cookieId, record, anonymous));
    });
  }

  private install(context: RequestSession): void {
    const { request } = context;
    ownValue(request, 'session', context.session);
    Object.defineProperty(request, 'sessionID', {
      configurable: true,
      enumerable: true,
      get: () => (context.replacedId === undefined ? context.state.id : context.replacedId.value),
      set: (value: unknown) => (context.replacedId = { value }),
    });
    this.hookResponse(context);
  }

  private newId(request: IncomingMessage): string {
    return this.config.genid ? this.config.genid(request) : generateSessionId();
  }

  private newCookie(options: SessionCookieOptions = this.config.cookie): SessionCookie {
    return new SessionCookie(options);
  }

  private isExpired(record: SessionRecord, now: number): boolean {
    const cookieMaxAge = record.meta.cookie?.originalMaxAge ?? this.config.cookie.maxAge ?? null;
    const limits = sessionLimits(this.config, cookieMaxAge);
    return hasExpired(limits, record.meta.createdAt, record.meta.lastSeenAt, now);
  }

  private async readLiveRecord(sessionId: string): Promise<SessionRecord | undefined> {
    const record = await this.records.read(sessionId);
    if (!record) return undefined;
    if (this.isExpired(record, Date.now())) {
      await this.removeSession(sessionId, record.data).catch(() => undefined);
      return undefined;
    }
    if (this.checks.afterLoad && !(await this.checks.afterLoad(record.data))) return undefined;
    return record;
  }

  private async load(
    cookieId: UnsignedSessionId,
  ): Promise<{ record: SessionRecord | undefined; anonymous: boolean }> {
    try {
      return { record: await this.readLiveRecord(cookieId.id), anonymous: false };
    } catch (error) {
      if (!(error instanceof SessionStoreUnavailableError)) throw error;
      if (this.config.onStoreError === 'fail') {
        this.config.logger.error('routing-controllers-session: the session could not be loaded', error);
        throw error;
      }
      this.config.logger.error('routing-controllers-session: serving an unsaved anonymous session', error);
      return { record: undefined, anonymous: true };
    }
  }

  private createContext(
    request: SessionRequest,
    response: ServerResponse,
    cookieOptions: SessionCookieOptions,
    cookieId: UnsignedSessionId | undefined,
    record: SessionRecord | undefined,
    anonymous: boolean,
  ): RequestSession {
    const context: RequestSession = {
      request,
      response,
      cookieOptions,
      next: (request as SlottedRequest)[requestSlot]?.next,
      incomingId: cookieId?.id,
      resign: cookieId !== undefined && !cookieId.signedWithCurrentSecret,
      anonymous,
      destroyed: false,
      regenerated: false,
      savedAlready: false,
      wroteChanges: false,
      cookieApplied: false,
      state: undefined as unknown as SessionState,
      session: undefined as unknown as SessionOf<object>,
    };
    context.state = this.newState(context, record && cookieId ? { id: cookieId.id, record } : undefined);
    context.session = createSession(context.state);
    return context;
  }

  /** The state of a session loaded from the store, or of a new one. */
  private newState(context: RequestSession, loaded?: { id: string; record: SessionRecord }): SessionState {
    const now = Date.now();
    const meta = loaded?.record.meta;
    const cookie = meta?.cookie
      ? SessionCookie.restore(meta.cookie, context.cookieOptions)
      : this.newCookie(context.cookieOptions);
    const state: SessionState = {
      id: loaded ? loaded.id : this.newId(context.request),
      cookie,
      storedCookieSettings: loaded ? cookie.settings() : undefined,
      tracker: new ChangeTracker(),
      createdAt: meta?.createdAt ?? now,
      lastSeenAt: meta?.lastSeenAt ?? now,
      isNew: !loaded,
      idChanged: !loaded,
      touched: false,
      flashedKeys: new Set(),
      agedFlashKeys: meta?.flash ?? [],
      backend: this.backendFor(context),
    };
    if (loaded) state.tracker.reset(loaded.record.data);
    return state;
  }

  private backendFor(context: RequestSession): SessionBackend {
    return {
      regenerate: (_session, keepData) => this.regenerate(context, keepData),
      destroy: () => this.destroy(context),
      save: () => this.save(context, true),
      reload: () => this.reload(context),
    };
  }

  /**
   * Puts a new session (new id, new cookie) on the request, as express-session does: the object the app
   * held before keeps its data (passport's keepSessionInfo copies from it), and is no longer saved.
   */
  private replaceSession(context: RequestSession, keptFrom?: SessionState): SessionOf<object> {
    const state = this.newState(context);
    if (keptFrom) {
      for (const key of keptFrom.tracker.keys()) state.tracker.write(key, keptFrom.tracker.peek(key));
      for (const key of keptFrom.flashedKeys) state.flashedKeys.add(key);
    }
    context.state = state;
    context.session = createSession(state);
    ownValue(context.request, 'session', context.session);
    return context.session;
  }

  private async regenerate(context: RequestSession, keepData: boolean): Promise<SessionOf<object>> {
    const previous = context.state;
    if (!previous.isNew) await this.removeSession(previous.id, previous.tracker.data);
    context.regenerated = true;
    return this.replaceSession(context, keepData ? previous : undefined);
  }

  /** Removes the session; as in express-session, `request.session` is then undefined for the rest of the request. */
  private async destroy(context: RequestSession): Promise<void> {
    const { state } = context;
    if (!state.isNew) await this.removeSession(state.id, state.tracker.data);
    ownValue(context.request, 'session', undefined);
    context.regenerated = false;
    context.destroyed = true;
  }

  private async reload(context: RequestSession): Promise<void> {
    const { state } = context;
    const record = state.isNew ? undefined : await this.readLiveRecord(state.id);
    if (!record) throw new SessionError('failed to load session', 500);
    state.tracker.reset(record.data);
    state.lastSeenAt = record.meta.lastSeenAt;
  }

  private expiryOf(state: SessionState, createdAt: number, now: number): number {
    return expiresAt(sessionLimits(this.config, state.cookie.originalMaxAge), createdAt, now);
  }

  /** The cookie a record keeps: always for express-session stores (their format), else only one of its own. */
  private storedCookieOf(state: SessionState): SessionCookieJSON | undefined {
    const ownSettings = state.cookie.settings() !== this.defaultCookieSettings;
    return !this.records.hashesSessionIds || ownSettings ? state.cookie.toJSON() : undefined;
  }

  /**
   * Whether ending the request now would write the session, and what it would write. Never throws: data
   * that cannot be stored (a cycle added after the set) is an `error` the save then fails with.
   */
  private planSave(context: RequestSession, explicit: boolean): SavePlan {
    const { state } = context;
    for (const key of state.agedFlashKeys) {
      if (!state.flashedKeys.has(key)) state.tracker.remove(key);
    }
    let changes: SessionChanges;
    try {
      changes = state.tracker.changes();
    } catch (error) {
      return { write: !context.anonymous, changes: { set: {}, removed: [] }, changed: false, error };
    }
    const cookieChanged =
      state.storedCookieSettings !== undefined && state.cookie.settings() !== state.storedCookieSettings;
    const changed =
      hasChanges(changes) || state.agedFlashKeys.length > 0 || state.flashedKeys.size > 0 || cookieChanged;
    let write: boolean;
    if (context.anonymous || typeof context.request.sessionID !== 'string') write = false;
    else if (explicit) write = true;
    else if (context.savedAlready) write = changed;
    else if (context.regenerated) write = true;
    else if (state.isNew) write = changed || this.config.saveUninitialized;
    else {
      const touchDue = Date.now() - state.lastSeenAt >= this.config.touchIntervalMs;
      write = changed || this.config.resave || state.touched || touchDue;
    }
    return { write, changes, changed };
  }

  /** Saves what planSave says: atomically where the store can (Redis), else lock, re-read, merge, write. */
  private async save(context: RequestSession, explicit: boolean): Promise<void> {
    const plan = this.planSave(context, explicit);
    if (plan.error !== undefined) throw plan.error;
    if (!plan.write) return;
    if (this.records.atomic) await this.saveAtomically(context, plan);
    else await this.saveUnderLock(context, plan);
  }

  /** Refuses data the schema or maxSize does not allow; nothing is written then. */
  private async checkData(data: SessionDataRecord): Promise<void> {
    await this.checks.beforeSave?.(data);
    const size = Buffer.byteLength(JSON.stringify(data));
    if (size > this.config.maxSize) throw new SessionTooLargeError(size, this.config.maxSize);
  }

  private flashChanged(state: SessionState): boolean {
    return state.agedFlashKeys.length > 0 || state.flashedKeys.size > 0;
  }

  /** Lock, read the latest record, apply only this request's changes, write, unlock. */
  private async saveUnderLock(context: RequestSession, plan: SavePlan): Promise<void> {
    const { state } = context;
    const lock = state.isNew ? this.records.withNewSessionLock : this.records.withLock;
    await lock.call(this.records, state.id, async () => {
      const now = Date.now();
      const latest = state.isNew ? undefined : await this.records.read(state.id);
      if (!state.isNew && !latest) return;
      const data = createDataRecord(Object.entries(latest?.data ?? {}));
      Object.assign(data, plan.changes.set);
      for (const key of plan.changes.removed) delete data[key];
      await this.checkData(data);
      const flash = this.flashChanged(state) ? mergeFlashKeys(latest?.meta.flash, state) : latest?.meta.flash;
      const createdAt = latest?.meta.createdAt ?? state.createdAt;
      const cookie = this.storedCookieOf(state);
      const record: SessionRecord = {
        data,
        meta: {
          createdAt,
          lastSeenAt: now,
          ...(cookie ? { cookie } : {}),
          ...(flash && flash.length > 0 ? { flash } : {}),
        },
      };
      await this.records.write(state.id, record, this.expiryOf(state, createdAt, now));
      await this.relinkUser(context, latest?.data, data);
      this.markSaved(context, plan, data, now);
    });
  }

  /**
   * One atomic apply of this request's changed keys (the Redis driver: one script, no lock, no re-read). The
   * schema and maxSize see this request's view of the data; the store merges it with everyone else's changes
   * and answers 'gone' for a session removed meanwhile, which then stays removed.
   */
  private async saveAtomically(context: RequestSession, plan: SavePlan): Promise<void> {
    const { state } = context;
    const now = Date.now();
    const data = createDataRecord(Object.entries(state.tracker.data));
    await this.checkData(data);
    const cookie = this.storedCookieOf(state);
    const change: SessionChange = {
      set: Object.fromEntries(
        Object.entries(plan.changes.set).map(([key, value]) => [key, JSON.stringify(value)]),
      ),
      removed: plan.changes.removed,
      meta: { createdAt: state.createdAt, lastSeenAt: now, ...(cookie ? { cookie } : {}) },
      create: state.isNew,
      ...(this.flashChanged(state)
        ? { flash: { aged: state.agedFlashKeys, flashed: [...state.flashedKeys] } }
        : {}),
    };
    const expiry = this.expiryOf(state, state.createdAt, now);
    if ((await this.records.apply(state.id, change, expiry)) === 'gone') return;
    await this.relinkUser(context, state.tracker.loaded, data);
    this.markSaved(context, plan, data, now);
  }

  private async relinkUser(
    context: RequestSession,
    before: SessionDataRecord | undefined,
    after: SessionDataRecord,
  ): Promise<void> {
    await this.userIndex?.relink(
      this.records.keyOf(context.state.id),
      this.userIndex.userOf(before),
      this.userIndex.userOf(after),
      context.request.headers['user-agent'],
    );
  }

  /** The session as now stored becomes the baseline of later changes. */
  private markSaved(context: RequestSession, plan: SavePlan, data: SessionDataRecord, now: number): void {
    const { state } = context;
    state.tracker.reset(data);
    context.savedAlready = true;
    state.storedCookieSettings = state.cookie.settings();
    state.isNew = false;
    state.lastSeenAt = now;
    state.touched = false;
    state.agedFlashKeys = [];
    state.flashedKeys.clear();
    context.wroteChanges ||= plan.changed;
  }

  private async commit(context: RequestSession): Promise<void> {
    const { request, state } = context;
    if (request.session === context.session) return this.save(context, false);
    if (this.removesAtEnd(context)) {
      await this.removeSession(state.id, state.tracker.data);
      context.destroyed = true;
    }
  }

  /** The app set `request.session` to null (or deleted it) with `unset: 'destroy'`: the stored session goes. */
  private removesAtEnd(context: RequestSession): boolean {
    return this.config.unset === 'destroy' && !context.destroyed && !context.state.isNew;
  }

  /** The Set-Cookie header this response needs, or undefined; `stored` says whether the session is (being) stored. */
  private cookieFor(context: RequestSession, stored: boolean): string | undefined {
    const { state, request } = context;
    if (typeof request.sessionID !== 'string') return undefined;
    const secure = isSecureRequest(request, this.config.proxy);
    if (state.cookie.secure === true && !secure) return undefined;
    const sessionKept = request.session === context.session;
    if (stored && sessionKept) {
      const persistent = state.cookie.originalMaxAge !== null;
      const send =
        state.idChanged || context.resign || this.config.rolling || (persistent && context.wroteChanges);
      if (!send) return undefined;
      state.cookie.resetMaxAge();
      return state.cookie.serialize(
        this.config.name,
        signSessionId(state.id, this.config.secrets[0]),
        secure,
      );
    }
    if (context.incomingId !== undefined && context.destroyed) {
      const expired = new SessionCookie({ ...this.config.cookie, maxAge: undefined, expires: new Date(0) });
      return expired.serialize(this.config.name, '', secure);
    }
    return undefined;
  }

  /** Sets the session's Set-Cookie header if this response needs one; returns the header it set. */
  private applyCookie(context: RequestSession, stored: boolean): string | undefined {
    const { response } = context;
    if (context.cookieApplied || response.headersSent) return undefined;
    context.cookieApplied = true;
    const header = this.cookieFor(context, stored);
    if (header === undefined) return undefined;
    const existing = response.getHeader('Set-Cookie');
    const others = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    response.setHeader('Set-Cookie', [...others, header]);
    context.state.idChanged = false;
    return header;
  }

  /**
   * Whether ending the response has store work to wait for (a save, or removing a session the app unset),
   * and whether a failure of it would lose something: data, or a removal. Extending an unchanged session's
   * idle time, or storing a new empty one (saveUninitialized), loses nothing when it fails.
   */
  private workAtEnd(context: RequestSession): { pending: boolean; dataAtRisk: boolean } {
    if (context.request.session !== context.session) {
      return { pending: this.removesAtEnd(context), dataAtRisk: true };
    }
    const plan = this.planSave(context, false);
    return {
      pending: plan.write,
      dataAtRisk: plan.changed || plan.error !== undefined || context.regenerated,
    };
  }

  /**
   * A failure that lost nothing does not fail the response; as in express-session, it goes to `next` once
   * the response has been handed to the connection, and to the logger.
   */
  private reportAfterResponse(context: RequestSession, error: unknown): void {
    this.config.logger.error(
      'routing-controllers-session: the session could not be touched or stored',
      error,
    );
    const { next } = context;
    // The client has its answer already: the store's own error, as express-session passes it.
    const reported =
      error instanceof SessionStoreUnavailableError && error.cause !== undefined ? error.cause : error;
    if (next) context.response.once('finish', () => next(reported));
  }

  /**
   * Answers a request whose save or whose deferred end failed: the error goes to the logger, the client
   * gets the error's status and message (a generic one for errors that are not ours), or, when the headers
   * are already out, a closed connection. Never throws.
   */
  private failResponse(context: RequestSession, error: unknown): void {
    const { response } = context;
    this.config.logger.error(
      'routing-controllers-session: the response failed while the session was saved',
      error,
    );
    try {
      if (response.headersSent) throw error;
      const status = error instanceof SessionError ? error.status : 500;
      const body = JSON.stringify(
        error instanceof SessionError ? error : { name: 'Error', message: 'Internal Server Error' },
      );
      for (const header of response.getHeaderNames()) response.removeHeader(header);
      response.statusCode = status;
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.setHeader('Content-Length', Buffer.byteLength(body));
      response.end(body);
    } catch {
      response.destroy();
    }
  }

  private hookResponse(context: RequestSession): void {
    hookResponse(context.response, {
      applyCookie: (stored) => this.applyCookie(context, stored),
      isStored: () => !context.state.isNew || this.planSave(context, false).write,
      workAtEnd: () => this.workAtEnd(context),
      commit: () => this.commit(context),
      fail: (error) => this.failResponse(context, error),
      reportAfterResponse: (error) => this.reportAfterResponse(context, error),
    });
  }
}

/**
 * The flash keys to store after a save: those another request flashed since this one loaded are kept, those
 * this request aged are dropped, and this request's own are added.
 */
function mergeFlashKeys(stored: string[] | undefined, state: SessionState): string[] {
  const kept = (stored ?? []).filter((key) => !state.agedFlashKeys.includes(key));
  return [...new Set([...kept, ...state.flashedKeys])];
}

interface SavePlan {
  write: boolean;
  changes: SessionChanges;
  changed: boolean;
  error?: unknown;
}
