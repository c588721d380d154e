import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionCookieOptions } from '../session/cookie';
import { SessionCookie, signSessionId } from '../session/cookie';
import { ChangeTracker } from '../session/change-tracker';
import { generateSessionId, storeKeyOf } from '../session/ids';
import type { SessionBackend, SessionOf, SessionState } from '../session/session';
import { createSession } from '../session/session';
import { SessionError, SessionStoreUnavailableError } from '../errors';
import type { SessionChange } from '../store/contract';
import type { SessionRecord } from '../store/record';
import type { SessionManager } from '../manager';
import type { RequestSlot } from './accessors';
import { showSession, shownSession } from './accessors';
import { cookieDecisionOf, cookieReasonOf } from './cookie-decision';
import { renderSessionError } from './error-response';
import { isSecureRequest } from './request-info';
import { longestSetCookie } from './misconfiguration';
import type { EndWork, SessionAtResponse } from './response-hooks';
import { hookResponse } from './response-hooks';
import type { SavePlan } from './save-decision';
import { planSave, unsavedReasonOf } from './save-decision';
import { trace, traceError, traceId, tracing } from '../trace';

const stillInDevelopment = () => process.env.NODE_ENV !== 'production';

export interface SessionRequest extends IncomingMessage {
  session?: SessionOf<object> | null;
  sessionID?: string;
  sessionStore?: unknown;
}

/**
 * Where a request's session stands:
 * - new: no stored session came with the request (no cookie, or nothing stored under it)
 * - loaded: the session stored under the client's cookie
 * - regenerated: a new id replaced the session's (`regenerate()`)
 * - destroyed: removed (`destroy()`, or unset with `unset: 'destroy'`)
 * - anonymous: the store failed and `onStoreError` is 'anonymous': never saved
 */
export type SessionPhase = 'new' | 'loaded' | 'regenerated' | 'destroyed' | 'anonymous';

/** What the request came with: the cookie's id and the session stored under it. */
export interface IncomingSession {
  id: string;
  /** The cookie was signed with a retired secret and must be re-signed. */
  resign: boolean;
  record: SessionRecord | 'anonymous' | undefined;
  /** The id came in the session header (option `header`): the answer goes there too, not in a cookie. */
  byHeader?: boolean;
  /** The id was regenerated and `record` is the new session, stored at this key (option `regenerateGrace`). */
  storeKey?: string | undefined;
}

/**
 * One request's session work, top to bottom: the session put on the request (from its record, or new), the
 * express-session methods (regenerate, destroy, reload, save), and at the response the save (decided by
 * `planSave`, applied by the store) and the cookie (decided by `cookieDecisionOf`). The response hooks and
 * the Session object call it; the per-app SessionManager only builds it.
 */
export class RequestSession implements SessionBackend, SessionAtResponse {
  phase: SessionPhase;
  state: SessionState;
  session: SessionOf<object>;
  /** What the app assigned to `request.sessionID`; anything but a string there means: neither save nor send. */
  replacedId?: { value: unknown };
  /** Saved during this request (`session.save()`, or at the first byte): a later save writes only later changes. */
  savedAlready = false;
  /** Some save of this request wrote changed data (a persistent cookie is then sent again). */
  wroteChanges = false;
  cookieApplied = false;
  /** The id the client sent, if its cookie was valid. */
  readonly incomingId: string | undefined;
  private readonly resign: boolean;
  private readonly byHeader: boolean;
  /** `session.save()` calls under way. */
  private savesUnderWay: Set<Promise<void>> | undefined;
  /** The last line traced, so that asking again at the end (after the first byte) does not repeat it. */
  private traced?: string;
  /** The at-rest id `regenerate()` replaced, while its 'regenerated' event waits for the new session's save. */
  private regeneratedFrom?: string;
  /**
   * The session the request's regenerated id was forwarded to (option `regenerateGrace`): its state and its
   * store key, which is not the hash of the id the client holds. No cookie is sent for it.
   */
  private forwarded?: { state: SessionState; storeKey: string };

  readonly response: ServerResponse | undefined;
  /** The cookie attributes of this request (the `cookie` option, or what its function returned). */
  readonly cookieOptions: SessionCookieOptions;
  /** The middleware's `next`, for errors that come after the response (express-session passes those too). */
  private readonly next: ((error?: unknown) => void) | undefined;
  /** Where the request shows this session: `request.session`, or `request.sessions[name]` for a named one. */
  private readonly slot: RequestSlot;

  constructor(
    private readonly manager: SessionManager,
    readonly request: SessionRequest,
    slot: RequestSlot,
    incoming: IncomingSession | undefined,
  ) {
    this.response = slot.response;
    this.cookieOptions = slot.cookieOptions;
    this.next = slot.next;
    this.slot = slot;
    this.incomingId = incoming?.id;
    this.resign = incoming?.resign === true;
    this.byHeader = incoming?.byHeader === true;
    const record = incoming?.record;
    const loaded = record !== undefined && record !== 'anonymous' ? record : undefined;
    this.phase = record === 'anonymous' ? 'anonymous' : loaded ? 'loaded' : 'new';
    this.state = this.newState(loaded && incoming?.id, loaded);
    if (loaded && incoming?.storeKey !== undefined)
      this.forwarded = { state: this.state, storeKey: incoming.storeKey };
    this.session = createSession(this.state);
    // an own property, as express-session's: `delete request.session` unsets it
    showSession(request, slot, this.session);
    slot.current = this;
    if (this.response) hookResponse(this.response, this);
  }

  /** What `request.sessionID` reads: the session's id, or what the app assigned to it. */
  sessionIdValue(): unknown {
    return this.replacedId === undefined ? this.state.id : this.replacedId.value;
  }

  /** Whether a state is the session this request's regenerated id was forwarded to. */
  private isForwarded(state: SessionState): boolean {
    return this.forwarded !== undefined && this.forwarded.state === state;
  }

  /** Where a state's session is stored: under the hash of its id, unless it was forwarded. */
  private storeKeyOf(state: SessionState): string {
    return this.isForwarded(state) ? this.forwarded!.storeKey : this.manager.store.keyOf(state.id);
  }

  /** The state of a session loaded from the store, or of a new one. */
  private newState(loadedId?: string, loaded?: SessionRecord): SessionState {
    const now = Date.now();
    const meta = loaded?.meta;
    const cookie = meta?.cookie
      ? SessionCookie.restore(meta.cookie, this.cookieOptions)
      : new SessionCookie(this.cookieOptions);
    const { genid } = this.manager.config;
    const configured = !meta?.cookie && this.cookieOptions === this.manager.config.cookie;
    const state: SessionState = {
      id: loadedId ?? (genid ? genid(this.request) : generateSessionId()),
      cookie,
      storedCookieSettings: loaded
        ? configured
          ? this.manager.defaultCookieSettings
          : cookie.settings()
        : undefined,
      tracker: new ChangeTracker(loaded?.data, loaded?.json),
      createdAt: meta?.createdAt ?? now,
      lastSeenAt: meta?.lastSeenAt ?? now,
      isNew: !loaded,
      idChanged: !loaded,
      touched: false,
      flashedKeys: new Set(),
      agedFlashKeys: meta?.flash ?? [],
      backend: this,
    };
    return state;
  }

  /**
   * Puts a new session (new id, new cookie) on the request, as express-session does: the object the app held
   * before keeps its data (passport's keepSessionInfo copies from it), and is no longer saved. `keepData` keeps
   * nothing when the session was removed meanwhile (a logout or a revoke): that must not sign anyone back in.
   */
  async regenerate(_session: unknown, keepData: boolean): Promise<SessionOf<object>> {
    const previous = this.state;
    const previousKey = this.storeKeyOf(previous);
    const stillStored =
      previous.isNew || (await this.manager.removeSession(previous.id, previous.tracker.loaded, previousKey));
    this.phase = 'regenerated';
    this.state = this.newState();
    // a session reached through a forwarding is never handed on: that would outlive the grace window
    const handsOn = stillStored && !this.isForwarded(previous);
    if (this.manager.grace && !previous.isNew && handsOn)
      await this.manager.grace.forward(previousKey, this.manager.store.keyOf(this.state.id));
    if (stillInDevelopment()) previous.warnOnWrite = 'regenerate';
    if (keepData && handsOn) {
      for (const key of previous.tracker.keys()) this.state.tracker.write(key, previous.tracker.peek(key));
      for (const key of previous.flashedKeys) this.state.flashedKeys.add(key);
    }
    if (tracing) {
      const kept = !keepData
        ? 'empty'
        : handsOn
          ? 'data kept'
          : stillStored
            ? 'nothing kept: it was reached through a regenerateGrace forwarding'
            : 'nothing kept: it was removed meanwhile';
      this.note(
        `session ${traceId(previous.id)} regenerated into session ${traceId(this.state.id)} (${kept})`,
      );
    }
    this.session = createSession(this.state);
    showSession(this.request, this.slot, this.session);
    // told once the new session is stored, so that the event has the user a sign-in puts in it (passport does)
    if (this.manager.events.wants('regenerated'))
      this.regeneratedFrom ??= this.isForwarded(previous) ? previousKey : storeKeyOf(previous.id);
    return this.session;
  }

  /** The 'regenerated' event owed since `regenerate()`, with what the new session holds now. */
  private notifyRegenerated(): void {
    const previousId = this.regeneratedFrom;
    if (previousId === undefined) return;
    this.regeneratedFrom = undefined;
    const event = this.manager.eventOf(this.state.id, this.state.tracker.data, 'regenerate');
    this.manager.events.notify('regenerated', { ...event, previousId });
  }

  /** Removes the session; as in express-session, `request.session` is then undefined for the rest of the request. */
  async destroy(): Promise<void> {
    const { state } = this;
    if (!state.isNew) {
      await this.manager.removeSession(state.id, state.tracker.loaded, this.storeKeyOf(state));
      if (this.isForwarded(state)) await this.manager.grace!.forget(this.manager.store.keyOf(state.id));
      this.notifyDestroyed(state, 'destroy');
    }
    showSession(this.request, this.slot, undefined);
    this.phase = 'destroyed';
    if (stillInDevelopment()) state.warnOnWrite = 'destroy';
    if (tracing)
      this.note(`session ${traceId(state.id)} destroyed${state.isNew ? ' (it was never stored)' : ''}`);
  }

  private notifyDestroyed(state: SessionState, reason: 'destroy' | 'unset'): void {
    const { events } = this.manager;
    if (events.wants('destroyed')) {
      const event = this.manager.eventOf(state.id, state.tracker.loaded, reason);
      // a forwarded session is stored at its own key, the id of the event (never the raw id the client holds)
      if (this.isForwarded(state)) event.id = this.forwarded!.storeKey;
      events.notify('destroyed', event);
    }
  }

  /** Warns, once per session object, of a write that is lost: the object was regenerated or destroyed. */
  staleWrite(state: SessionState, key: string): void {
    const replaced = state.warnOnWrite === 'regenerate';
    state.warnOnWrite = undefined;
    this.manager.config.logger.warn(
      `routing-controllers-session: "${key}" was changed on a session object after ` +
        (replaced
          ? 'regenerate() replaced it, so the change will not be saved. Write to the session regenerate() ' +
            'resolves to (`const fresh = await session.regenerate()`), or to request.session.'
          : 'destroy() removed it, so the change will not be saved. To go on with a new session, call ' +
            'regenerate() instead and write to the session it resolves to, or to request.session.'),
    );
  }

  /** Traces a line, unless it repeats the one before (the end asks the save decision again after the first byte). */
  private note(line: string): void {
    if (line === this.traced) return;
    this.traced = line;
    trace(line);
  }

  async reload(): Promise<void> {
    const { state } = this;
    const record = state.isNew ? undefined : await this.manager.readLive(state.id, this.storeKeyOf(state));
    if (!record) throw new SessionError('failed to load session', 500);
    state.tracker.reset(record.data, record.json);
    state.lastSeenAt = record.meta.lastSeenAt;
  }

  /** `session.save()`: writes now, whatever the save decision would say at the end. */
  async save(): Promise<void> {
    const plan = planSave(this, this.manager.config, true);
    if (plan.reason === undefined) return;
    const saving = this.saveChanges(plan);
    (this.savesUnderWay ??= new Set()).add(saving);
    try {
      await saving;
    } finally {
      this.savesUnderWay.delete(saving);
    }
  }

  /**
   * The end's save, once the app's un-awaited `session.save()` calls are done (their failures are their own):
   * the response leaves after their writes too, increments and pushes included, which the end does not repeat.
   */
  private saveAfterExplicitSaves(plan: SavePlan): Promise<void> {
    if (!this.savesUnderWay?.size) return this.saveChanges(plan);
    return Promise.allSettled(this.savesUnderWay).then(() => this.saveChanges(plan));
  }

  /** The user the save moves the session to or from, when the user index must follow. */
  private userChange(): { before: string | undefined; after: string | undefined } | undefined {
    const { userIndex } = this.manager;
    if (!userIndex) return undefined;
    const before = userIndex.userOf(this.state.tracker.loaded);
    const after = userIndex.userOf(this.state.tracker.data);
    return before === after ? undefined : { before, after };
  }

  /**
   * One atomic apply of the changes planned (the store merges them with every other request's and answers
   * 'gone' for a session removed meanwhile, which then stays removed). A new user's index entry is written
   * first, so that a session never carries a user that "sign out everywhere" cannot reach.
   */
  private async saveChanges(plan: SavePlan): Promise<void> {
    if (plan.error !== undefined) throw plan.error;
    const { manager, state } = this;
    if (manager.checks.beforeSave) await manager.checks.beforeSave(state.tracker.data);
    const users = this.userChange();
    const { change, expiresAt, now } = this.changeOf(plan);
    const key = this.storeKeyOf(state);
    const userAgent = this.request.headers['user-agent'];
    if (users?.after !== undefined) await manager.userIndex!.add(users.after, key, userAgent);
    if ((await manager.store.apply(state.id, change, expiresAt, key)) === 'gone') {
      if (tracing) this.traceGone();
      return;
    }
    if (users?.before !== undefined) await manager.userIndex!.unlink(users.before, key);
    this.markSaved(state, plan, now);
  }

  /**
   * The same save done at once, where the store is in this process and nothing else needs waiting for (no
   * schema, no change of user): true when done. Throws what the save would fail with.
   */
  private saveNow(plan: SavePlan): boolean {
    if (plan.error !== undefined) throw plan.error;
    const { manager, state } = this;
    if (manager.checks.beforeSave || this.userChange() || this.isForwarded(state)) return false;
    const { change, expiresAt, now } = this.changeOf(plan);
    const applied = manager.store.applyNow(state.id, change, expiresAt);
    if (applied === undefined) return false;
    if (applied === 'saved') this.markSaved(state, plan, now);
    else if (tracing) this.traceGone();
    return true;
  }

  private traceGone(): void {
    this.note(
      `session ${traceId(this.state.id)} not saved: it was removed meanwhile (destroyed, revoked or expired); it stays removed`,
    );
  }

  /** This request's planned change as the store applies it; throws when the data is larger than maxSize. */
  private changeOf(plan: SavePlan): { change: SessionChange; expiresAt: number; now: number } {
    const { manager, state } = this;
    const now = Date.now();
    manager.checkSize(state.tracker.byteLength(state.tracker.jsonAfter(plan.changes)));
    const cookie = manager.storedCookieOf(state.cookie, plan.cookieSettings);
    const change: SessionChange = {
      set: plan.changes.json,
      removed: plan.changes.removed,
      meta: { createdAt: state.createdAt, lastSeenAt: now, ...(cookie ? { cookie } : {}) },
      create: state.isNew,
      ...(plan.flash ? { flash: plan.flash } : {}),
      ...(plan.changes.ops ? { ops: plan.changes.ops } : {}),
    };
    const expiresAt = manager.expiryOf(state.cookie, state.createdAt, now);
    const cookieMaxAge = state.cookie.originalMaxAge;
    if (cookieMaxAge !== null && expiresAt - now < cookieMaxAge - 1000) {
      manager.warnings.storeExpiresFirst(expiresAt - now, cookieMaxAge);
    }
    return { change, expiresAt, now };
  }

  /**
   * What the save carried is now the stored session; what changed after it was planned is still to save. A save
   * of a session that `regenerate()` has replaced meanwhile says nothing about the new one.
   */
  private markSaved(state: SessionState, plan: SavePlan, now: number): void {
    if (state !== this.state) return;
    if (state.isNew && this.phase === 'new' && this.manager.events.wants('created')) {
      this.manager.events.notify('created', this.manager.eventOf(state.id, state.tracker.data, 'new'));
    }
    this.notifyRegenerated();
    state.tracker.commit(plan.changes);
    state.storedCookieSettings = plan.cookieSettings;
    state.isNew = false;
    state.lastSeenAt = now;
    state.touched = false;
    if (plan.flash) {
      state.agedFlashKeys = state.agedFlashKeys.filter((key) => !plan.flash!.aged.includes(key));
      for (const key of plan.flash.flashed) state.flashedKeys.delete(key);
    }
    this.savedAlready = true;
    this.wroteChanges ||= plan.changed;
    if (tracing) this.note(`session ${traceId(state.id)} saved (${plan.reason})`);
  }

  /**
   * The store work ending the response now needs (a save, or removing a session the app unset), and whether
   * a failure of it would lose something: data, or a removal. Extending an unchanged session's idle time, or
   * storing a new empty one (saveUninitialized), loses nothing when it fails.
   */
  workAtEnd(): EndWork | undefined {
    const { request, state } = this;
    if (shownSession(request, this.slot) !== this.session) {
      this.notifyRegenerated();
      const removes = this.manager.config.unset === 'destroy' && this.phase !== 'destroyed' && !state.isNew;
      if (tracing) this.traceUnset(removes);
      if (!removes) return undefined;
      return {
        dataAtRisk: true,
        commit: async () => {
          await this.manager.removeSession(state.id, state.tracker.loaded, this.storeKeyOf(state));
          this.phase = 'destroyed';
          this.notifyDestroyed(state, 'unset');
        },
        commitNow: () => false,
      };
    }
    const plan = planSave(this, this.manager.config, false);
    if (plan.reason === undefined) {
      // a regenerated session that is never stored (nothing was put in it) is told now, with no user
      this.notifyRegenerated();
      if (tracing) this.note(`session ${traceId(state.id)} not saved: ${unsavedReasonOf(plan.facts)}`);
      return this.savesUnderWay?.size ? this.waitForExplicitSaves() : undefined;
    }
    return {
      dataAtRisk: plan.changed || plan.error !== undefined || this.phase === 'regenerated',
      commit: () => this.saveAfterExplicitSaves(plan),
      commitNow: () => !this.savesUnderWay?.size && this.saveNow(plan),
    };
  }

  /** No store work of the end's own, but the response leaves after the app's un-awaited `session.save()` calls. */
  private waitForExplicitSaves(): EndWork {
    const saves = [...this.savesUnderWay!];
    return {
      dataAtRisk: false,
      commit: async () => void (await Promise.allSettled(saves)),
      commitNow: () => false,
    };
  }

  private traceUnset(removes: boolean): void {
    const id = traceId(this.state.id);
    this.note(
      this.phase === 'destroyed'
        ? `session ${id} not saved: destroyed`
        : removes
          ? `session ${id} removed: request.session was unset (unset: 'destroy')`
          : `session ${id} not saved: request.session was replaced or unset (unset: 'keep' keeps the stored one)`,
    );
  }

  isStored(): boolean {
    return !this.state.isNew;
  }

  /** Sets the session's Set-Cookie header if this response needs one; `stored`: the session is (being) stored. */
  applyCookie(stored: boolean): string | undefined {
    const { response, request, state } = this;
    if (this.cookieApplied || !response) return undefined;
    if (this.isForwarded(state)) {
      // the client holds the old id; the new one is not known here, and a clearing cookie would sign it out
      if (tracing)
        this.note(`no cookie for session ${traceId(state.id)}: it was forwarded (regenerateGrace)`);
      return undefined;
    }
    if (response.headersSent) {
      if (tracing)
        this.note(`no cookie for session ${traceId(state.id)}: the headers were sent before it could be set`);
      return undefined;
    }
    this.cookieApplied = true;
    const { config } = this.manager;
    const sendsCookie = !this.byHeader && config.header?.cookie !== false;
    const secureOnly = sendsCookie && state.cookie.secure === true;
    // asked only of a cookie that depends on it: behind Express it is `request.secure`, not a cheap read
    let secureRequest: boolean | undefined;
    const isSecure = () => (secureRequest ??= isSecureRequest(request, config.proxy));
    const facts = {
      idIsString: typeof this.sessionIdValue() === 'string',
      secureOnly,
      secureRequest: secureOnly && isSecure(),
      storedAndKept: stored && shownSession(request, this.slot) === this.session,
      idChanged: state.idChanged,
      resign: this.resign,
      rolling: config.rolling,
      persistent: state.cookie.originalMaxAge !== null,
      wroteChanges: this.wroteChanges,
      destroyedFromCookie: this.incomingId !== undefined && this.phase === 'destroyed',
    };
    const decision = cookieDecisionOf(facts);
    if (decision === undefined && secureOnly && !facts.secureRequest) {
      if (cookieDecisionOf({ ...facts, secureRequest: true }) !== undefined) {
        this.manager.warnings.droppedSecureCookie(request, config.proxy);
      }
    }
    if (tracing) {
      const id = traceId(state.id);
      const why = cookieReasonOf(facts);
      this.note(
        decision === 'session'
          ? `cookie sent for session ${id}: ${why}`
          : decision === 'clear'
            ? `cookie cleared for session ${id}: ${why}`
            : `no cookie for session ${id}: ${why}`,
      );
    }
    if (decision === undefined) return undefined;
    if (config.header) this.applyHeader(response, config.header.name, decision);
    if (!sendsCookie) return undefined;
    let header: string;
    if (decision === 'session') {
      state.cookie.resetMaxAge();
      header = state.cookie.serialize(config.name, signSessionId(state.id, config.secrets[0]), isSecure());
      this.checkCookie(header, isSecure());
    } else {
      header = state.cookie.expired().serialize(config.name, '', isSecure());
    }
    const existing = response.getHeader('Set-Cookie');
    const others = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    response.setHeader('Set-Cookie', [...others, header]);
    state.idChanged = false;
    return header;
  }

  /** The session header (option `header`): the signed id of a new or regenerated session, empty when it is gone. */
  private applyHeader(response: ServerResponse, name: string, decision: 'session' | 'clear'): void {
    const { state } = this;
    if (decision === 'clear') {
      if (this.byHeader) response.setHeader(name, '');
    } else if (state.idChanged || this.resign) {
      response.setHeader(name, signSessionId(state.id, this.manager.config.secrets[0]));
    }
    if (this.byHeader || this.manager.config.header?.cookie === false) state.idChanged = false;
  }

  /** Warns of a session cookie that browsers will not keep. */
  private checkCookie(header: string, secureRequest: boolean): void {
    const { cookie } = this.state;
    const { warnings } = this.manager;
    if (
      cookie.sameSite === 'none' &&
      (cookie.secure === false || (cookie.secure === 'auto' && !secureRequest))
    ) {
      warnings.sameSiteNoneWithoutSecure(cookie.secure);
    }
    if (header.length > longestSetCookie) warnings.cookieTooLarge(header.length);
  }

  /**
   * A failure that lost nothing does not fail the response; as in express-session, it goes to `next` once
   * the response has been handed to the connection, and to the logger.
   */
  reportAfterResponse(error: unknown): void {
    if (tracing) {
      this.note(
        `session ${traceId(this.state.id)}: the store work failed, ${traceError(error)}; nothing was lost, the response goes on`,
      );
    }
    this.manager.config.logger.error(
      'routing-controllers-session: the session could not be touched or stored',
      error,
    );
    const { next, response } = this;
    // The client has its answer already: the store's own error, as express-session passes it.
    const reported =
      error instanceof SessionStoreUnavailableError && error.cause !== undefined ? error.cause : error;
    if (next && response) response.once('finish', () => next(reported));
  }

  /**
   * Answers a request whose save or whose deferred end failed: the error goes to the logger, the client gets
   * the error's status and message (a generic one for errors that are not ours), or, when the headers are
   * already out, a closed connection. Never throws.
   */
  fail(error: unknown): void {
    if (tracing) {
      this.note(
        `session ${traceId(this.state.id)}: the save failed, ${traceError(error)}; the response fails`,
      );
    }
    this.manager.config.logger.error(
      'routing-controllers-session: the response failed while the session was saved',
      error,
    );
    if (this.response) renderSessionError(this.response, error);
  }
}
