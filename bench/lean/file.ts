import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LeanChange, LeanMeta, LeanRecord, LeanStore } from './session';

/** One file per session: its expiry, meta and each key's JSON. */
interface StoredSession {
  e: number;
  m: LeanMeta;
  d: Record<string, string>;
}

/**
 * One file per session, written to a temporary file and renamed (no torn file). Lock-free, unlike ours: a save
 * re-reads the file and merges its change, but two saves of one session at the same moment can still lose one
 * of them. Expired files are ignored, never swept.
 */
export class LeanFileStore implements LeanStore {
  private writes = 0;

  constructor(private readonly directory: string) {}

  private pathOf(key: string): string {
    return join(this.directory, `${key}.json`);
  }

  private async stored(key: string): Promise<StoredSession | undefined> {
    try {
      const stored = JSON.parse(await readFile(this.pathOf(key), 'utf8')) as StoredSession;
      return stored.e > Date.now() ? stored : undefined;
    } catch {
      return undefined;
    }
  }

  async read(key: string): Promise<LeanRecord | undefined> {
    const stored = await this.stored(key);
    return stored && { fields: new Map(Object.entries(stored.d)), meta: stored.m };
  }

  async apply(key: string, change: LeanChange, expiresAt: number): Promise<void> {
    const stored = await this.stored(key);
    if (stored === undefined && !change.create) return;
    const data = stored?.d ?? {};
    const { set, removed } = change;
    for (let index = 0; index < set.length; index += 2) data[set[index]!] = set[index + 1]!;
    for (const name of removed) delete data[name];
    const path = this.pathOf(key);
    const temporary = `${path}.${process.pid}.${(this.writes += 1)}.tmp`;
    await writeFile(temporary, JSON.stringify({ e: expiresAt, m: change.meta, d: data }), { mode: 0o600 });
    await rename(temporary, path);
  }
}
