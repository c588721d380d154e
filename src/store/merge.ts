import type { SessionChange, SessionRecord } from './contract';
import { createDataRecord, isUnsafeKey } from '../session/change-tracker';

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

/** The data keys after a change, each as `valueOf` keeps it (its JSON, or the parsed value). */
export function fieldsAfter<Value>(
  stored: Iterable<[string, Value]> | undefined,
  change: SessionChange,
  valueOf: (json: string) => Value,
): Map<string, Value> {
  const fields = new Map(change.replace ? undefined : stored);
  for (const name of change.removed) fields.delete(name);
  for (const name in change.set) fields.set(name, valueOf(change.set[name]!));
  return fields;
}

/** The whole record after a change: the one merge of a change into a session, for stores that keep records whole. */
export function recordAfter(stored: SessionRecord | undefined, change: SessionChange): SessionRecord {
  const fields = fieldsAfter(stored && Object.entries(stored.data), change, JSON.parse);
  const flash = flashKeysAfter(stored?.meta.flash ?? [], change);
  return {
    data: createDataRecord(fields),
    meta: { ...change.meta, ...(flash.length > 0 ? { flash } : {}) },
  };
}
