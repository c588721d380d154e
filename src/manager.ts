import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedSessionConfig } from './config/options';
import { expiresAt, hasExpired, sessionLimits } from './config/lifetime';
import type { SessionCookie, SessionCookieJSON } from './session/cookie';
import { SessionCookie as Cookie, readHeaderSessionId, readSessionId } from './session/cookie';
import type { SessionDataRecord } from './session/change-tracker';
import { SessionStoreUnavailableError, SessionTooLargeError } from './errors';
import type { GuardedStore } from './store/guarded';
import type { SessionRecord } from './store/record';
import type { UserSessionIndex } from './store/user-index';
import { attachSlot, originalPathOf, slotOf } from './request/accessors';
import { prepareResponse } from './request/response-hooks';
import { hookableResponseOf } from './request/load-session';
import { MisconfigurationWarnings } from './request/misconfiguration';
import type { RequestSlot } from './request/accessors';
import { addBeside, runsBeside } from './request/named-sessions';
import type { IncomingSession, SessionRequest } from './request/request-session';
import { RequestSession } from './request/request-session';
import { SessionStoreApi } from './stores/session-store-api';
import { keyvViewOf } from './stores/keyv-view';
import { KeyvSessionStore } from './stores/keyv';
import type { Keyv } from 'keyv';
import type { ReadResult } from './store/contract';
import { unreadableSession } from './store/contract';
import { trace, traceError, traceId, tracing } from './trace';
import type { SessionEvents } from './events';
import { storeKeyOf } from './session/ids';
import { ForwardedSession, RegenerateGrace } from './store/regenerate-grace';

export type { SessionRequest } from './request/request-session';

/** The store could not answer at once: the request waits for its promise instead. */
const notNow = Symbol('not now');

/** Checks session data after it is read; returns false when the stored data must be discarded. */
export type SessionDataLoadCheck = (data: SessionDataRecord) => Promise<boolean>;
/** Checks session data before it is written (the schema); throws to refuse the save. */
export type SessionDataCheck = (data: SessionDataRecord) => Promise<void>;

export interface SessionChecks {
  beforeSave?: SessionDataCheck;
  afterLoad?: SessionDataLoadCheck;
}

/**
 * The per-app object: the options, the store, the checks and the user index, built once at start-up. For each
 * request it reads the cookie and the stored session and builds the RequestSession that does the rest.
 */
export class SessionManager {
  readonly warnings: MisconfigurationWarnings;
  /** `request.sessionStore`: express-session's Store API over this app's store. */
  readonly sessionStore: SessionStoreApi;
  private keyvView: Keyv | undefined;
  /** The settings of the configured cookie: what a session's cookie has unless it keeps its own. */
  readonly defaultCookieSettings: string;
  /** Option regenerateGrace: forwardings from regenerated ids to their new sessions. */
  readonly grace: RegenerateGrace | undefined;

  constructor(
    readonly config: ResolvedSessionConfig,
    readonly store: GuardedStore,
    readonly events: SessionEvents,
    readonly checks: SessionChecks = {},
    readonly userIndex?: UserSessionIndex,
  ) {
    this.defaultCookieSettings = new Cookie(config.cookie).settings();
    this.sessionStore = new SessionStoreApi(this);
    this.warnings = new MisconfigurationWarnings(config.logger);
    this.grace = config.regenerateGraceMs ? new RegenerateGrace(store, config.regenerateGraceMs) : undefined;
  }

  /** The sessions as a Keyv (`handler.store`); the request path never goes through it. */
  get keyv(): Keyv {
    const { store } = this.store;
    return (this.keyvView ??= store instanceof KeyvSessionStore ? store.keyv : keyvViewOf(store));
  }

  /**
   * Puts the session on `request.session` and arranges for it to be saved before the response ends.
   * With a valid cookie the record is loaded first (a promise); without one nothing is read, and the new
   * session is only built if the request touches `request.session` (undefined is returned: no await).
   * Without a response to hook (a WebSocket handshake, `loadSession()`) only `session.save()` writes.
   */
  attach(
    request: SessionRequest,
    response: ServerResponse | undefined,
    next?: (error?: unknown) => void,
  ): Promise<void> | undefined {
    // a session middleware with another name keeps its session beside the first one's (named-sessions.ts)
    const main = slotOf(request);
    if (main && !runsBeside(main, this)) return undefined;
    // As express-session: leave alone a request that another middleware gave a session, one outside the
    // cookie's path, and every request while an express-session store says it is disconnected.
    if (!main && request.session !== undefined && request.session !== null) return undefined;
    const { config } = this;
    const cookieOptions = config.cookieFor
      ? { ...config.cookie, ...config.cookieFor(request) }
      : config.cookie;
    const cookiePath = cookieOptions.path ?? '/';
    if (cookiePath !== '/' && !originalPathOf(request).startsWith(cookiePath)) {
      if (tracing) trace(`no session: the request is outside the cookie's path ${cookiePath}`);
      return undefined;
    }
    if (!this.store.connected) {
      if (tracing) trace(`no session: the store ${this.store.name} says it is disconnected`);
      return undefined;
    }
    const answered = hookableResponseOf(request, response);
    if (answered) prepareResponse(answered);
    const headerId = config.header && readHeaderSessionId(request, config.header.name, config.secrets);
    const cookieId = headerId || readSessionId(request, config.name, config.secrets);
    if (!cookieId && (tracing || this.events.wants('rejected'))) this.noValidCookie(request);
    const slot: RequestSlot = { owner: this, next, response: answered, cookieOptions, lazy: !cookieId };
    if (main) addBeside(main, slot);
    else attachSlot(request, slot);
    if (!cookieId) {
      // saveUninitialized stores and sends a cookie for every new session, touched or not
      if (config.saveUninitialized) {
        slot.lazy = false;
        this.build(request, slot);
      }
      return undefined;
    }
    if (this.store.readsNow && !this.checks.afterLoad) {
      const record = this.loadNow(cookieId.id);
      // no session under the id: within a regenerate grace window it may be forwarded, which takes a wait
      if (record !== notNow && (record !== undefined || !this.grace)) {
        this.begin(request, slot, cookieId, record);
        return undefined;
      }
    }
    return this.load(cookieId.id).then((record) => this.begin(request, slot, cookieId, record));
  }

  private begin(
    request: SessionRequest,
    slot: RequestSlot,
    cookieId: { id: string; signedWithCurrentSecret: boolean; byHeader?: boolean },
    record: IncomingSession['record'] | ForwardedSession,
  ): void {
    const forwarded = record instanceof ForwardedSession ? record : undefined;
    const incoming: IncomingSession = {
      id: cookieId.id,
      resign: !cookieId.signedWithCurrentSecret,
      record: forwarded ? forwarded.record : (record as IncomingSession['record']),
      byHeader: cookieId.byHeader === true,
      storeKey: forwarded?.storeKey,
    };
    new RequestSession(this, request, slot, incoming);
  }

  private noValidCookie(request: IncomingMessage): void {
    const header = request.headers.cookie;
    const sent = typeof header === 'string' && header.includes(`${this.config.name}=`);
    if (sent) this.events.notify('rejected', { reason: 'signature' });
    if (!tracing) return;
    trace(
      sent
        ? 'the session cookie does not verify (tampered, or signed with another secret): a new session, built if the request uses it'
        : 'no session cookie: a new session, built if the request uses it',
    );
  }

  /** What an event says of a session: its at-rest id, and its user where the user index knows it. */
  eventOf(sessionId: string, data: SessionDataRecord | undefined, reason: string) {
    const user = this.userIndex?.userOf(data);
    return { id: storeKeyOf(sessionId), ...(user === undefined ? {} : { user }), reason };
  }

  /** Builds a new session for a request that came without a cookie, when it first touches it. */
  build(request: IncomingMessage, slot: RequestSlot): RequestSession {
    return new RequestSession(this, request, slot, undefined);
  }

  /** An event of the session at `key`: one a regenerated id was forwarded to (regenerateGrace) is told by that key. */
  private eventAt(
    sessionId: string,
    key: string | undefined,
    data: SessionDataRecord | undefined,
    reason: string,
  ) {
    const event = this.eventOf(sessionId, data, reason);
    if (key !== undefined && key !== this.store.keyOf(sessionId)) event.id = key;
    return event;
  }

  /** 'idle' or 'absolute' for a session past that timeout. */
  private expiryReasonOf(record: SessionRecord, now: number): 'idle' | 'absolute' | undefined {
    const cookieMaxAge = record.meta.cookie?.originalMaxAge ?? this.config.cookie.maxAge ?? null;
    const limits = sessionLimits(this.config, cookieMaxAge);
    if (!hasExpired(limits, record.meta.createdAt, record.meta.lastSeenAt, now)) return undefined;
    return now - record.meta.lastSeenAt > limits.idleMs ? 'idle' : 'absolute';
  }

  /** The stored record unless there is none, it is unreadable or it expired ('expired': it must be removed). */
  private unexpired(
    sessionId: string,
    record: ReadResult,
    key?: string,
  ): SessionRecord | 'expired' | undefined {
    if (record === unreadableSession)
      this.events.notify('rejected', this.eventAt(sessionId, key, undefined, 'unreadable'));
    if (record === undefined || record === unreadableSession) {
      if (tracing) {
        trace(
          record === undefined
            ? `session ${traceId(sessionId)} not found: never stored, or removed (destroyed, regenerated, revoked, expired)`
            : `session ${traceId(sessionId)} discarded: unreadable (corrupt, or not a session record)`,
        );
      }
      return undefined;
    }
    const expiry = this.expiryReasonOf(record, Date.now());
    if (expiry) {
      if (tracing)
        trace(`session ${traceId(sessionId)} discarded: expired (idle or absolute timeout); removing it`);
      if (this.events.wants('expired'))
        this.events.notify('expired', this.eventAt(sessionId, key, record.data, expiry));
      return 'expired';
    }
    return record;
  }

  /** The session stored under an id (or at `key`), unless it expired (it is then removed) or fails the schema. */
  readLive(sessionId: string, key = this.store.keyOf(sessionId)): Promise<SessionRecord | undefined> {
    return this.store.readSession(sessionId, key).then((stored) => {
      const record = this.unexpired(sessionId, stored, key);
      if (record === 'expired') {
        const forget = () => undefined;
        return this.removeSession(sessionId, (stored as SessionRecord).data, key).then(forget, forget);
      }
      if (record === undefined) return undefined;
      if (this.checks.afterLoad) return this.matchingSchema(sessionId, key, record);
      if (tracing) trace(`session ${traceId(sessionId)} loaded`);
      return record;
    });
  }

  private async matchingSchema(
    sessionId: string,
    key: string,
    record: SessionRecord,
  ): Promise<SessionRecord | undefined> {
    if (!(await this.checks.afterLoad!(record.data))) {
      if (tracing) trace(`session ${traceId(sessionId)} discarded: its data does not match the schema`);
      if (this.events.wants('rejected'))
        this.events.notify('rejected', this.eventAt(sessionId, key, record.data, 'schema'));
      return undefined;
    }
    if (tracing) trace(`session ${traceId(sessionId)} loaded`);
    return record;
  }

  /** `readLive` done at once by a store in this process, with no schema to check; notNow when it failed. */
  private loadNow(sessionId: string): SessionRecord | undefined | typeof notNow {
    let stored: ReadResult;
    try {
      stored = this.store.readSessionNow(sessionId);
    } catch {
      return notNow;
    }
    const record = this.unexpired(sessionId, stored);
    if (record === 'expired') {
      this.removeSession(sessionId, (stored as SessionRecord).data).catch(() => undefined);
      return undefined;
    }
    if (record && tracing) trace(`session ${traceId(sessionId)} loaded`);
    return record;
  }

  /**
   * The live record under the cookie's id, or within a regenerate grace window the session the id was
   * regenerated into; 'anonymous' when the store failed and the options allow that.
   */
  private load(sessionId: string): Promise<SessionRecord | ForwardedSession | 'anonymous' | undefined> {
    type Loaded = SessionRecord | ForwardedSession | 'anonymous' | undefined;
    const failed = (error: unknown): Loaded => this.loadFailed(sessionId, error);
    return this.readLive(sessionId).then<Loaded, Loaded>(
      (record) => (record === undefined && this.grace ? this.readForwarded(sessionId).catch(failed) : record),
      failed,
    );
  }

  /** A load the store failed: 'anonymous' where the options allow it, else the error again. */
  private loadFailed(sessionId: string, error: unknown): 'anonymous' {
    if (!(error instanceof SessionStoreUnavailableError)) throw error;
    if (tracing) {
      trace(
        `session ${traceId(sessionId)}: loading it failed, ${traceError(error)}: ` +
          (this.config.onStoreError === 'fail'
            ? "the request fails with 503 (onStoreError: 'fail')"
            : "serving an unsaved anonymous session (onStoreError: 'anonymous')"),
      );
    }
    if (this.config.onStoreError === 'fail') {
      this.config.logger.error('routing-controllers-session: the session could not be loaded', error);
      throw error;
    }
    this.config.logger.error('routing-controllers-session: serving an unsaved anonymous session', error);
    return 'anonymous';
  }

  /** The session a regenerated id leads to while its grace window is open. */
  private async readForwarded(sessionId: string): Promise<ForwardedSession | undefined> {
    const storeKey = await this.grace!.forwardedKey(this.store.keyOf(sessionId));
    const record = storeKey === undefined ? undefined : await this.readLive(sessionId, storeKey);
    if (tracing && storeKey !== undefined) {
      trace(
        record
          ? `session ${traceId(sessionId)} was regenerated into ${storeKey}: served that session (regenerateGrace)`
          : `session ${traceId(sessionId)} was regenerated into ${storeKey}, which is gone: a new session`,
      );
    }
    return record && new ForwardedSession(record, storeKey!);
  }

  /**
   * The store key of the session a raw id (`request.sessionID`) reaches: its own, or within a regenerate grace
   * window the one it was forwarded to.
   */
  async sessionKeyOf(sessionId: string | undefined): Promise<string | undefined> {
    if (sessionId === undefined) return undefined;
    const key = this.store.keyOf(sessionId);
    return (this.grace && (await this.grace.forwardedKey(key))) ?? key;
  }

  /** Removes a session (stored under its id, or at `key`) from the store, then from its user's index; true when it was still stored. */
  async removeSession(
    sessionId: string,
    storedData: SessionDataRecord | undefined,
    key = this.store.keyOf(sessionId),
  ): Promise<boolean> {
    const existed = await this.store.removeKey(key);
    const user = this.userIndex?.userOf(storedData);
    if (user !== undefined) await this.userIndex!.unlink(user, key);
    return existed;
  }

  checkSize(size: number): void {
    if (size > this.config.maxSize) throw new SessionTooLargeError(size, this.config.maxSize);
  }

  expiryOf(cookie: SessionCookie, createdAt: number, now: number): number {
    return expiresAt(sessionLimits(this.config, cookie.originalMaxAge), createdAt, now);
  }

  /** The cookie a record keeps: always for express-session stores (their format), else only one of its own. */
  storedCookieOf(cookie: SessionCookie, settings = cookie.settings()): SessionCookieJSON | undefined {
    return this.store.keepsRawIds || settings !== this.defaultCookieSettings ? cookie.toJSON() : undefined;
  }
}
