import type { SessionChange, SessionOp, SessionRecord } from './contract';
import { createDataRecord, isUnsafeKey } from '../session/change-tracker';
import { SessionValidationError } from '../errors';
import { appendedJson } from '../session/pending-ops';

/** A JSON number as JSON.stringify writes it (the Lua script and the SQL statements check the same way). */
const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

/**
 * A key's JSON after an op, from its stored JSON (undefined: missing). Values are JSON as this library writes
 * it (no white space), so an array is a text that starts with `[`, and items are appended as text: the stored
 * items keep their exact JSON. A value of another type is replaced, as a missing one would be.
 */
export function jsonAfterOp(stored: string | undefined, op: SessionOp): string {
  if (op.op === 'push') {
    return appendedJson(stored !== undefined && stored[0] === '[' ? stored : '[]', op.items);
  }
  const start = stored !== undefined && jsonNumber.test(stored) ? Number(stored) : 0;
  const total = start + op.by;
  if (!Number.isFinite(total)) {
    throw new SessionValidationError(
      `Session key "${op.key}" cannot be incremented beyond ${start}.`,
      op.key,
    );
  }
  return JSON.stringify(total);
}

/** The keys a change sets onto a session that holds nothing: its `set`, and what its ops make of missing keys. */
export function setsOntoNothing(change: Pick<SessionChange, 'set' | 'ops'>): Record<string, string> {
  if (!change.ops) return change.set;
  const set = { ...change.set };
  for (const op of change.ops) set[op.key] = jsonAfterOp(undefined, op);
  return set;
}

/**
 * The flash keys stored after a change: the stored ones that the change did not age (another request may have
 * flashed them meanwhile), then the ones it flashed, each once. Unchanged when the change leaves flash alone;
 * none of the stored ones when it replaces the session.
 */
export function flashKeysAfter(
  stored: readonly string[],
  change: Pick<SessionChange, 'flash' | 'replace'>,
): string[] {
  const kept = change.replace ? [] : stored;
  if (!change.flash) return [...kept];
  const { aged, flashed } = change.flash;
  return [...new Set([...kept.filter((name) => !aged.includes(name)), ...flashed])];
}

/** A change that stores a session given whole in place of the stored one (express-session's `store.set`). */
export function replacingChange(record: SessionRecord): SessionChange {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.data)) {
    if (!isUnsafeKey(name)) set[name] = JSON.stringify(value);
  }
  const { flash, ...meta } = record.meta;
  return { set, removed: [], meta, create: true, replace: true, flash: { aged: [], flashed: flash ?? [] } };
}

/** The data keys after a change, each as `valueOf` keeps it (its JSON, or the parsed value; `jsonOf` back). */
export function fieldsAfter<Value>(
  stored: Iterable<[string, Value]> | undefined,
  change: SessionChange,
  valueOf: (json: string) => Value,
  jsonOf: (value: Value) => string,
): Map<string, Value> {
  const fields = new Map(change.replace ? undefined : stored);
  for (const name of change.removed) fields.delete(name);
  for (const name in change.set) fields.set(name, valueOf(change.set[name]!));
  if (change.ops) {
    for (const op of change.ops) {
      if (isUnsafeKey(op.key)) continue;
      const current = fields.get(op.key);
      fields.set(op.key, valueOf(jsonAfterOp(current === undefined ? undefined : jsonOf(current), op)));
    }
  }
  return fields;
}

/** The whole record after a change: the one merge of a change into a session, for stores that keep records whole. */
export function recordAfter(stored: SessionRecord | undefined, change: SessionChange): SessionRecord {
  const fields = fieldsAfter(stored && Object.entries(stored.data), change, JSON.parse, JSON.stringify);
  const flash = flashKeysAfter(stored?.meta.flash ?? [], change);
  return {
    data: createDataRecord(fields),
    meta: { ...change.meta, ...(flash.length > 0 ? { flash } : {}) },
  };
}
