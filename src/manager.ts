import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedSessionConfig } from './config/options';
import type { UnsignedSessionId } from './session/cookie';
import { SessionCookie, readSessionId, signSessionId } from './session/cookie';
import { cookieDecisionOf } from './request/cookie-decision';
import { SessionConfigError, SessionError, SessionStoreUnavailableError } from './errors';
import { generateSessionId } from './session/ids';
import { hasExpired, sessionLimits } from './config/lifetime';
import type { SessionRecord } from './store/record';
import { attachSlot, originalPathOf, ownValue, slotOf } from './request/accessors';
import type { RequestSlot } from './request/accessors';
import { isSecureRequest } from './request/request-info';
import type { SessionPhase, SessionRequest } from './request/request-session';
import { RequestSession } from './request/request-session';
import type { EndWork } from './request/response-hooks';
import { hookResponse } from './request/response-hooks';
import { renderSessionError } from './request/error-response';
import { planSave } from './request/save-decision';
import type { SessionBackend, SessionDataRecord, SessionOf, SessionState } from './session/session';
import { ChangeTracker } from './session/change-tracker';
import type { SessionDataCheck } from './store/session-writer';
import { SessionWriter } from './store/session-writer';
import type { SessionRecords } from './store/session-records';
import { ExpressStoreApi } from './stores/session-store-api';
import type { UserSessionIndex } from './store/user-index';

export type { SessionRequest } from './request/request-session';

/** Checks session data after it is read; returns false when the stored data must be discarded. */
export type SessionDataLoadCheck = (data: SessionDataRecord) => Promise<boolean>;

export interface LifecycleChecks {
  beforeSave?: SessionDataCheck;
  afterLoad?: SessionDataLoadCheck;
}

/**
 * One request's session, from the cookie to the store and back: attach and load at the start, the
 * express-session methods between, and at the response the save (decided by `planSave`, written by the
 * SessionWriter) and the cookie (decided by `cookieDecisionOf`).
 */
export class SessionLifecycle {
  /** `request.sessionStore`: express-session's Store API over this lifecycle's store. */
  readonly sessionStore: ExpressStoreApi;
  private readonly writer: SessionWriter;

  constructor(
    readonly config: ResolvedSessionConfig,
    readonly records: SessionRecords,
    private readonly checks: LifecycleChecks = {},
    readonly userIndex?: UserSessionIndex,
  ) {
    this.writer = new SessionWriter(config, records, checks.beforeSave, userIndex);
    this.sessionStore = new ExpressStoreApi({
      keyv: records.keyv,
      read: (sessionId) => this.readLiveRecord(sessionId),
      write: (sessionId, record, expiry) => this.writer.writeWhole(sessionId, () => record, expiry),
      touch: (sessionId, expiry) =>
        this.writer.writeWhole(
          sessionId,
          (latest) => latest && { data: latest.data, meta: latest.meta },
          expiry,
        ),
      remove: async (sessionId) => this.writer.remove(sessionId, (await this.records.read(sessionId))?.data),
      list: () => records.list(),
    });
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
    const owner = slotOf(request)?.owner;
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
    const cookiePath = cookieOptions.path ?? '/';
    if (cookiePath !== '/' && !originalPathOf(request).startsWith(cookiePath)) return undefined;
    if (!this.records.storeConnected) return undefined;
    const cookieId = readSessionId(request, this.config.name, this.config.secrets);
    const slot: RequestSlot = { owner: this, next, response, cookieOptions, lazy: !cookieId };
    attachSlot(request, slot);
    if (!cookieId) {
      // saveUninitialized stores and sends a cookie for every new session, touched or not
      if (this.config.saveUninitialized) {
        slot.lazy = false;
        this.build(request, slot);
      }
      return undefined;
    }
    return this.load(cookieId).then((record) => {
      this.install(request, slot, cookieId, record);
    });
  }

  /** Builds a new session for a request that came without a cookie, when it first touches it. */
  build(request: IncomingMessage, slot: RequestSlot): RequestSession {
    return this.install(request, slot, undefined, undefined);
  }

  /** Builds the request's session (from its record, or new) and puts it on the request and the response. */
  private install(
    request: SessionRequest,
    slot: RequestSlot,
    cookieId: UnsignedSessionId | undefined,
    record: SessionRecord | 'anonymous' | undefined,
  ): RequestSession {
    const { response } = slot;
    const loaded = record !== undefined && record !== 'anonymous' && cookieId ? record : undefined;
    const phase: SessionPhase = record === 'anonymous' ? 'anonymous' : loaded ? 'loaded' : 'new';
    const context = new RequestSession(
      request,
      response,
      slot.cookieOptions,
      cookieId?.id,
      cookieId !== undefined && !cookieId.signedWithCurrentSecret,
      phase,
      slot.next,
      (owner) => this.newState(owner, loaded && { id: cookieId!.id, record: loaded }),
    );
    ownValue(request, 'session', context.session);
    Object.defineProperty(request, 'sessionID', {
      configurable: true,
      enumerable: true,
      get: () => (context.replacedId === undefined ? context.state.id : context.replacedId.value),
      set: (value: unknown) => (context.replacedId = { value }),
    });
    hookResponse(response, {
      applyCookie: (stored) => this.applyCookie(context, stored),
      isStored: () => !context.state.isNew,
      workAtEnd: () => this.workAtEnd(context),
      fail: (error) => this.failResponse(context, error),
      reportAfterResponse: (error) => this.reportAfterResponse(context, error),
    });
    return context;
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
      await this.writer.remove(sessionId, record.data).catch(() => undefined);
      return undefined;
    }
    if (this.checks.afterLoad && !(await this.checks.afterLoad(record.data))) return undefined;
    return record;
  }

  /** The live record under the cookie's id; 'anonymous' when the store failed and the options allow that. */
  private async load(cookieId: UnsignedSessionId): Promise<SessionRecord | 'anonymous' | undefined> {
    try {
      return await this.readLiveRecord(cookieId.id);
    } catch (error) {
      if (!(error instanceof SessionStoreUnavailableError)) throw error;
      if (this.config.onStoreError === 'fail') {
        this.config.logger.error('routing-controllers-session: the session could not be loaded', error);
        throw error;
      }
      this.config.logger.error('routing-controllers-session: serving an unsaved anonymous session', error);
      return 'anonymous';
    }
  }

  /** The state of a session loaded from the store, or of a new one. */
  private newState(context: RequestSession, loaded?: { id: string; record: SessionRecord }): SessionState {
    const now = Date.now();
    const meta = loaded?.record.meta;
    const cookie = meta?.cookie
      ? SessionCookie.restore(meta.cookie, context.cookieOptions)
      : new SessionCookie(context.cookieOptions);
    const state: SessionState = {
      id: loaded ? loaded.id : this.config.genid ? this.config.genid(context.request) : generateSessionId(),
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
    if (loaded) state.tracker.reset(loaded.record.data, loaded.record.json);
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
  private async regenerate(context: RequestSession, keepData: boolean): Promise<SessionOf<object>> {
    const previous = context.state;
    if (!previous.isNew) await this.writer.remove(previous.id, previous.tracker.data);
    context.phase = 'regenerated';
    const state = this.newState(context);
    if (keepData) {
      for (const key of previous.tracker.keys()) state.tracker.write(key, previous.tracker.peek(key));
      for (const key of previous.flashedKeys) state.flashedKeys.add(key);
    }
    ownValue(context.request, 'session', context.replace(state));
    return context.session;
  }

  /** Removes the session; as in express-session, `request.session` is then undefined for the rest of the request. */
  private async destroy(context: RequestSession): Promise<void> {
    const { state } = context;
    if (!state.isNew) await this.writer.remove(state.id, state.tracker.data);
    ownValue(context.request, 'session', undefined);
    context.phase = 'destroyed';
  }

  private async reload(context: RequestSession): Promise<void> {
    const { state } = context;
    const record = state.isNew ? undefined : await this.readLiveRecord(state.id);
    if (!record) throw new SessionError('failed to load session', 500);
    state.tracker.reset(record.data, record.json);
    state.lastSeenAt = record.meta.lastSeenAt;
  }

  /** `session.save()`: writes now, whatever the save decision would say at the end. */
  private async save(context: RequestSession, explicit: boolean): Promise<void> {
    const plan = planSave(context, this.config, explicit);
    if (plan.error !== undefined) throw plan.error;
    if (plan.reason !== undefined) await this.writer.save(context, plan);
  }

  /**
   * The store work ending the response now needs (a save, or removing a session the app unset), and whether
   * a failure of it would lose something: data, or a removal. Extending an unchanged session's idle time, or
   * storing a new empty one (saveUninitialized), loses nothing when it fails.
   */
  private workAtEnd(context: RequestSession): EndWork | undefined {
    const { request, state } = context;
    if (request.session !== context.session) {
      const removes = this.config.unset === 'destroy' && context.phase !== 'destroyed' && !state.isNew;
      if (!removes) return undefined;
      return {
        dataAtRisk: true,
        commit: async () => {
          await this.writer.remove(state.id, state.tracker.data);
          context.phase = 'destroyed';
        },
        commitNow: () => false,
      };
    }
    const plan = planSave(context, this.config, false);
    if (plan.reason === undefined) return undefined;
    return {
      dataAtRisk: plan.changed || plan.error !== undefined || context.phase === 'regenerated',
      commit: async () => {
        if (plan.error !== undefined) throw plan.error;
        await this.writer.save(context, plan);
      },
      commitNow: () => {
        if (plan.error !== undefined) throw plan.error;
        return this.writer.saveNow(context, plan);
      },
    };
  }

  /** Sets the session's Set-Cookie header if this response needs one; `stored`: the session is (being) stored. */
  private applyCookie(context: RequestSession, stored: boolean): string | undefined {
    const { response, request, state } = context;
    if (context.cookieApplied || response.headersSent) return undefined;
    context.cookieApplied = true;
    const secureRequest = isSecureRequest(request, this.config.proxy);
    const decision = cookieDecisionOf({
      idIsString: typeof request.sessionID === 'string',
      secureOnly: state.cookie.secure === true,
      secureRequest,
      storedAndKept: stored && request.session === context.session,
      idChanged: state.idChanged,
      resign: context.resign,
      rolling: this.config.rolling,
      persistent: state.cookie.originalMaxAge !== null,
      wroteChanges: context.wroteChanges,
      destroyedFromCookie: context.incomingId !== undefined && context.phase === 'destroyed',
    });
    if (decision === undefined) return undefined;
    let header: string;
    if (decision === 'session') {
      state.cookie.resetMaxAge();
      const signed = signSessionId(state.id, this.config.secrets[0]);
      header = state.cookie.serialize(this.config.name, signed, secureRequest);
    } else {
      const expired = new SessionCookie({ ...this.config.cookie, maxAge: undefined, expires: new Date(0) });
      header = expired.serialize(this.config.name, '', secureRequest);
    }
    const existing = response.getHeader('Set-Cookie');
    const others = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    response.setHeader('Set-Cookie', [...others, header]);
    state.idChanged = false;
    return header;
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
    this.config.logger.error(
      'routing-controllers-session: the response failed while the session was saved',
      error,
    );
    renderSessionError(context.response, error);
  }
}
