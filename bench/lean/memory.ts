import type { LeanChange, LeanRecord, LeanStore } from './session';

interface Entry {
  record: LeanRecord;
  expiresAt: number;
}

/** Sessions in a Map; a save stores a new record (copy on write), so a request's baseline never moves. */
export class LeanMemoryStore implements LeanStore {
  private readonly entries = new Map<string, Entry>();

  constructor() {
    setInterval(() => this.sweep(), 60_000).unref();
  }

  read(key: string): LeanRecord | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.record;
    this.entries.delete(key);
    return undefined;
  }

  apply(key: string, change: LeanChange, expiresAt: number): void {
    const stored = this.read(key);
    if (stored === undefined && !change.create) return;
    const fields = new Map(stored?.fields);
    const { set, removed } = change;
    for (let index = 0; index < set.length; index += 2) fields.set(set[index]!, set[index + 1]!);
    for (const name of removed) fields.delete(name);
    this.entries.set(key, { record: { fields, meta: change.meta }, expiresAt });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
