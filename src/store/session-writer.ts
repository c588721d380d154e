import type { ResolvedSessionConfig } from '../config/options';
import type { SessionCookieJSON } from '../session/cookie';
import { SessionCookie } from '../session/cookie';
import type { SessionDataRecord } from '../session/change-tracker';
import { createDataRecord } from '../session/change-tracker';
import { SessionTooLargeError } from '../errors';
import { expiresAt, sessionLimits } from '../config/lifetime';
import type { SessionRecord } from './record';
import type { RequestSession } from '../request/request-session';
import type { SavePlan } from '../request/save-decision';
import type { SessionState } from '../session/session';
import type { SessionChange } from './contract';
import { flashKeysAfter } from './contract';
import type { SessionRecords } from './session-records';
import type { UserSessionIndex } from './user-index';

/** Checks session data before it is written (the schema); throws to refuse the save. */
export type SessionDataCheck = (data: SessionDataRecord) => Promise<void>;

/** A whole record to write, given the stored one (undefined: write nothing), and when it expires. */
type NextRecord = (
  latest: SessionRecord | undefined,
) => Promise<{ record: SessionRecord; expiresAt: number } | undefined>;

/**
 * Stores sessions: one request's change merged into the stored session (atomically where the store can,
 * else under a lock around read, merge and write), whole records (express-session's Store API), removals,
 * and the user index beside them.
 */
export class SessionWriter {
  /** The settings of a cookie made from the options: a session whose cookie differs keeps its own. */
  private readonly defaultCookieSettings: string;

  constructor(
    private readonly config: ResolvedSessionConfig,
    readonly records: SessionRecords,
    private readonly beforeSave: SessionDataCheck | undefined,
    private readonly userIndex: UserSessionIndex | undefined,
  ) {
    this.defaultCookieSettings = new SessionCookie(config.cookie).settings();
  }

  /** Saves one request's changes; the session as stored then becomes the baseline of later changes. */
  async save(context: RequestSession, plan: SavePlan): Promise<void> {
    if (this.records.atomic) await this.applyAtomically(context, plan);
    else await this.mergeUnderLock(context, plan);
  }

  /**
   * One atomic apply of this request's changed keys (memory: in place; Redis: one script), no lock and no
   * re-read. The schema and maxSize see this request's view of the data; the store merges it with everyone
   * else's changes and answers 'gone' for a session removed meanwhile, which then stays removed.
   */
  private async applyAtomically(context: RequestSession, plan: SavePlan): Promise<void> {
    const { state } = context;
    await this.beforeSave?.(state.tracker.data);
    const { change, expiry, json, now } = this.changeOf(state, plan);
    if ((await this.records.apply(state.id, change, expiry)) === 'gone') return;
    const { loaded, data } = state.tracker;
    await this.relinkUser(state.id, loaded, data, context.request.headers['user-agent']);
    markSaved(context, plan, data, json, now);
  }

  /**
   * The same save done at once, where the store is in this process and nothing else needs waiting for (no
   * schema, no change of user): true when done. Throws what the save would fail with.
   */
  saveNow(context: RequestSession, plan: SavePlan): boolean {
    const { state } = context;
    const { userIndex } = this;
    if (this.beforeSave || !this.records.atomic?.applySessionNow) return false;
    if (userIndex && userIndex.userOf(state.tracker.loaded) !== userIndex.userOf(state.tracker.data))
      return false;
    const { change, expiry, json, now } = this.changeOf(state, plan);
    const applied = this.records.applyNow(state.id, change, expiry);
    if (applied === undefined) return false;
    if (applied === 'saved') markSaved(context, plan, state.tracker.data, json, now);
    return true;
  }

  /** This request's change as an atomic store applies it; throws when the data is larger than maxSize. */
  private changeOf(state: SessionState, plan: SavePlan) {
    const now = Date.now();
    const json = state.tracker.jsonAfter(plan.changes);
    this.checkSize(state.tracker.byteLength(json));
    const cookie = this.storedCookieOf(state);
    const change: SessionChange = {
      set: plan.changes.json,
      removed: plan.changes.removed,
      meta: { createdAt: state.createdAt, lastSeenAt: now, ...(cookie ? { cookie } : {}) },
      create: state.isNew,
      ...flashChangeOf(state),
    };
    return { change, expiry: this.expiryOf(state, state.createdAt, now), json, now };
  }

  /** Lock, read the latest record, apply only this request's changes, write, unlock. */
  private async mergeUnderLock(context: RequestSession, plan: SavePlan): Promise<void> {
    const { state } = context;
    const now = Date.now();
    const written = await this.writeMerged(
      state.id,
      state.isNew,
      async (latest) => {
        if (!state.isNew && !latest) return undefined;
        const data = createDataRecord(Object.entries(latest?.data ?? {}));
        Object.assign(data, plan.changes.set);
        for (const key of plan.changes.removed) delete data[key];
        await this.beforeSave?.(data);
        this.checkSize(Buffer.byteLength(JSON.stringify(data)));
        const flash = flashKeysAfter(latest?.meta.flash ?? [], flashChangeOf(state));
        const createdAt = latest?.meta.createdAt ?? state.createdAt;
        const cookie = this.storedCookieOf(state);
        const meta = {
          createdAt,
          lastSeenAt: now,
          ...(cookie ? { cookie } : {}),
          ...(flash && flash.length > 0 ? { flash } : {}),
        };
        return { record: { data, meta }, expiresAt: this.expiryOf(state, createdAt, now) };
      },
      context.request.headers['user-agent'],
    );
    if (written) markSaved(context, plan, written.data, new Map(), now);
  }

  /**
   * Writes a session given whole (express-session's store.set and store.touch), keeping its creation time
   * and its user's index; `next` may build it from the stored one.
   */
  async writeWhole(
    sessionId: string,
    next: (latest: SessionRecord | undefined) => SessionRecord | undefined,
    expiry: number | undefined,
  ): Promise<void> {
    await this.writeMerged(sessionId, false, async (latest) => {
      const given = next(latest);
      if (!given) return undefined;
      const now = Date.now();
      const createdAt = latest?.meta.createdAt ?? given.meta.createdAt;
      const limits = sessionLimits(this.config, given.meta.cookie?.originalMaxAge ?? null);
      return {
        record: { data: given.data, meta: { ...given.meta, createdAt, lastSeenAt: now } },
        expiresAt: expiry ?? expiresAt(limits, createdAt, now),
      };
    });
  }

  /** Under the session's lock: reads the stored record (unless the session is new), writes what `next` makes of it. */
  private async writeMerged(
    sessionId: string,
    isNew: boolean,
    next: NextRecord,
    userAgent?: string,
  ): Promise<SessionRecord | undefined> {
    const { records } = this;
    const task = async () => {
      const latest = isNew ? undefined : await records.read(sessionId);
      const written = await next(latest);
      if (!written) return undefined;
      await records.write(sessionId, written.record, written.expiresAt);
      await this.relinkUser(sessionId, latest?.data, written.record.data, userAgent);
      return written.record;
    };
    return isNew ? records.withNewSessionLock(sessionId, task) : records.withLock(sessionId, task);
  }

  /** Removes a session from the store, and from its user's index. */
  async remove(sessionId: string, data: SessionDataRecord | undefined): Promise<void> {
    await this.records.remove(sessionId);
    await this.relinkUser(sessionId, data, undefined, undefined);
  }

  private async relinkUser(
    sessionId: string,
    before: SessionDataRecord | undefined,
    after: SessionDataRecord | undefined,
    userAgent: string | undefined,
  ): Promise<void> {
    const { userIndex } = this;
    if (!userIndex) return;
    const [userBefore, userAfter] = [userIndex.userOf(before), userIndex.userOf(after)];
    if (userBefore === userAfter) return;
    await userIndex.relink(this.records.keyOf(sessionId), userBefore, userAfter, userAgent);
  }

  private checkSize(size: number): void {
    if (size > this.config.maxSize) throw new SessionTooLargeError(size, this.config.maxSize);
  }

  expiryOf(state: SessionState, createdAt: number, now: number): number {
    return expiresAt(sessionLimits(this.config, state.cookie.originalMaxAge), createdAt, now);
  }

  /** The cookie a record keeps: always for express-session stores (their format), else only one of its own. */
  private storedCookieOf(state: SessionState): SessionCookieJSON | undefined {
    const ownSettings = state.cookie.settings() !== this.defaultCookieSettings;
    return !this.records.hashesSessionIds || ownSettings ? state.cookie.toJSON() : undefined;
  }
}

/** This request's change to the flash keys, as a store applies it. */
function flashChangeOf(state: SessionState): Pick<SessionChange, 'flash'> {
  const changed = state.agedFlashKeys.length > 0 || state.flashedKeys.size > 0;
  return changed ? { flash: { aged: state.agedFlashKeys, flashed: [...state.flashedKeys] } } : {};
}

/** The session as now stored becomes the baseline of later changes (the tracker keeps its own copy of `data`). */
function markSaved(
  context: RequestSession,
  plan: SavePlan,
  data: SessionDataRecord,
  json: ReadonlyMap<string, string>,
  now: number,
): void {
  const { state } = context;
  state.tracker.reset(data, json);
  context.savedAlready = true;
  state.storedCookieSettings = state.cookie.settings();
  state.isNew = false;
  state.lastSeenAt = now;
  state.touched = false;
  state.agedFlashKeys = [];
  state.flashedKeys.clear();
  context.wroteChanges ||= plan.changed;
}
