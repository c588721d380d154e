import { readFile, rename, writeFile } from 'node:fs';
import { join } from 'node:path';
import type { LeanChange, LeanMeta, LeanRecord, LeanStore } from './session';

/** One file per session: its expiry, meta and each key's JSON. */
interface StoredSession {
  e: number;
  m: LeanMeta;
  d: Record<string, string>;
}

/**
 * One file per session, written to a temporary file and renamed (no torn file), with the callback API of
 * `fs` (one promise per store call, where `fs/promises` makes dozens). Lock-free, unlike ours: a save re-reads
 * the file and merges its change, but two saves of one session at the same moment can still lose one of them.
 * Expired files are ignored, never swept.
 */
export class LeanFileStore implements LeanStore {
  private writes = 0;

  constructor(private readonly directory: string) {}

  private pathOf(key: string): string {
    return join(this.directory, `${key}.json`);
  }

  private stored(key: string, then: (stored: StoredSession | undefined) => void): void {
    readFile(this.pathOf(key), 'utf8', (error, text) => {
      if (error) return then(undefined);
      let stored: StoredSession | undefined;
      try {
        stored = JSON.parse(text) as StoredSession;
      } catch {
        stored = undefined;
      }
      then(stored && stored.e > Date.now() ? stored : undefined);
    });
  }

  read(key: string): Promise<LeanRecord | undefined> {
    return new Promise((resolve) =>
      this.stored(key, (stored) =>
        resolve(stored && { fields: new Map(Object.entries(stored.d)), meta: stored.m }),
      ),
    );
  }

  apply(key: string, change: LeanChange, expiresAt: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.stored(key, (stored) => {
        if (stored === undefined && !change.create) return resolve();
        const data = stored?.d ?? {};
        const { set, removed } = change;
        for (let index = 0; index < set.length; index += 2) data[set[index]!] = set[index + 1]!;
        for (const name of removed) delete data[name];
        const path = this.pathOf(key);
        const temporary = `${path}.${process.pid}.${(this.writes += 1)}.tmp`;
        const text = JSON.stringify({ e: expiresAt, m: change.meta, d: data });
        writeFile(temporary, text, { mode: 0o600 }, (writeError) => {
          if (writeError) return reject(writeError);
          rename(temporary, path, (renameError) => (renameError ? reject(renameError) : resolve()));
        });
      }),
    );
  }
}
