import type { SessionChanges } from '../session/change-tracker';
import type { ResolvedSessionConfig } from '../config/options';
import { hasChanges } from '../session/change-tracker';
import type { RequestSession } from './request-session';

/**
 * Why the end of a request writes the session (koa-session's way of saying it), or undefined: nothing to write.
 * - explicit: the app called `session.save()`
 * - changed: data, flash keys or the cookie changed
 * - regenerated: a new id replaces the old one, changed or not
 * - uninitialized: a new, unchanged session, stored because of `saveUninitialized`
 * - resave: an unchanged session, stored because of `resave`
 * - touched: the app called `session.touch()`
 * - idle: the idle timeout is renewed (throttled by the touch interval)
 */
export type SaveReason =
  'explicit' | 'changed' | 'regenerated' | 'uninitialized' | 'resave' | 'touched' | 'idle';

/** Everything the save decision depends on. */
export interface SaveFacts {
  explicit: boolean;
  changed: boolean;
  anonymous: boolean;
  /** `request.sessionID` still holds a string (anything else there turns saving off). */
  idIsString: boolean;
  regenerated: boolean;
  stored: boolean;
  savedAlready: boolean;
  touched: boolean;
  touchDue: boolean;
  saveUninitialized: boolean;
  resave: boolean;
}

export function saveReasonOf(facts: SaveFacts): SaveReason | undefined {
  if (facts.anonymous || !facts.idIsString) return undefined;
  if (facts.explicit) return 'explicit';
  if (facts.changed) return 'changed';
  if (facts.savedAlready) return undefined;
  if (facts.regenerated) return 'regenerated';
  if (!facts.stored) return facts.saveUninitialized ? 'uninitialized' : undefined;
  if (facts.resave) return 'resave';
  if (facts.touched) return 'touched';
  return facts.touchDue ? 'idle' : undefined;
}

/** Why saveReasonOf said nothing to write, in words (for the trace). */
export function unsavedReasonOf(facts: Omit<SaveFacts, 'changed'>): string {
  if (facts.anonymous) return 'anonymous (the store failed when it was loaded)';
  if (!facts.idIsString) return 'request.sessionID was replaced by a value that is not a string';
  if (facts.savedAlready) return 'unchanged since session.save()';
  if (!facts.stored) return 'unchanged (new and empty, saveUninitialized is off)';
  return 'unchanged';
}

/** What ending the request now would write, and why. */
export interface SavePlan {
  reason: SaveReason | undefined;
  changes: SessionChanges;
  changed: boolean;
  /** The cookie's settings and the flash keys as this plan saves them. */
  cookieSettings: string;
  flash: { aged: string[]; flashed: string[] } | undefined;
  /** The data cannot be stored (a cycle or a BigInt put in a value after it was set): the save fails with it. */
  error?: unknown;
  /** What the decision was made from (`changed` apart). */
  facts: Omit<SaveFacts, 'changed'>;
}

const noChanges: SessionChanges = { set: {}, json: {}, removed: [] };

/** Computes this request's changes once and decides from them; never throws. */
export function planSave(
  context: RequestSession,
  options: Pick<ResolvedSessionConfig, 'saveUninitialized' | 'resave' | 'touchIntervalMs'>,
  explicit: boolean,
): SavePlan {
  const { state } = context;
  for (const key of state.agedFlashKeys) {
    if (!state.flashedKeys.has(key)) state.tracker.remove(key);
  }
  const facts: Omit<SaveFacts, 'changed'> = {
    explicit,
    anonymous: context.phase === 'anonymous',
    idIsString: typeof context.sessionIdValue() === 'string',
    regenerated: context.phase === 'regenerated',
    stored: !state.isNew,
    savedAlready: context.savedAlready,
    touched: state.touched,
    touchDue: Date.now() - state.lastSeenAt >= options.touchIntervalMs,
    saveUninitialized: options.saveUninitialized,
    resave: options.resave,
  };
  const cookieSettings = state.cookie.settings();
  const flashChanged = state.agedFlashKeys.length > 0 || state.flashedKeys.size > 0;
  const flash = flashChanged
    ? { aged: [...state.agedFlashKeys], flashed: [...state.flashedKeys] }
    : undefined;
  let changes: SessionChanges;
  try {
    changes = state.tracker.changes();
  } catch (error) {
    const reason = saveReasonOf({ ...facts, changed: true });
    return { reason, changes: noChanges, changed: false, cookieSettings, flash, error, facts };
  }
  const cookieChanged =
    state.storedCookieSettings !== undefined && cookieSettings !== state.storedCookieSettings;
  const changed = hasChanges(changes) || flashChanged || cookieChanged;
  return { reason: saveReasonOf({ ...facts, changed }), changes, changed, cookieSettings, flash, facts };
}
