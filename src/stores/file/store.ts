import { lstat, mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { sha256 } from '../../session/ids';
import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from '../../store/contract';
import { unreadableSession } from '../../store/contract';
import { KeyedLock } from '../../store/keyed-lock';
import { recordAfter } from '../../store/merge';
import { asSessionRecord, parseEnvelope } from '../../store/record';
import { isUserIndexKey } from '../../store/user-index-key';
import { FileLocks } from './lock';
import { ownerIsGone, processToken } from './owner';

export interface FileStoreOptions {
  /** Where session files live; created when missing. Default `storage/sessions`. */
  directory?: string;
  /** How often expired files are swept, in milliseconds. Default 10 minutes. */
  sweepIntervalMs?: number;
  /** A lock whose owner cannot be checked (another container) is taken over once older than this. Default 10 s. */
  staleLockMs?: number;
  /** How long a save waits for a session's lock before it fails. Default 5 s (the session's storeTimeout). */
  lockTimeoutMs?: number;
}

/** A session file: the key it holds, and `{ value, expires }` as JSON text (the layout of earlier releases). */
interface StoredFile {
  key: string;
  value: string;
  expires?: number;
}

const dataSuffix = '.json';
const tempSuffix = '.tmp';
const lockSuffix = '.lock';
const staleTempMs = 60_000;

function isStoredFile(parsed: unknown): parsed is StoredFile {
  const candidate = parsed as StoredFile | null;
  return typeof candidate?.key === 'string' && typeof candidate.value === 'string';
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function isExpired(expires: number | undefined, now = Date.now()): boolean {
  return typeof expires === 'number' && expires <= now;
}

/**
 * Sessions in a folder, one file per session named by a hash of its key. Writes go through a temp file and a
 * rename (no torn files); every read reads the file again, so several processes (and containers) share one
 * folder; a change is applied under the session's lock (`FileLocks`); expired files are swept in the background.
 */
export class FileStore extends EventEmitter implements SessionStore {
  readonly directory: string;
  readonly name: string;
  private readonly lockTimeoutMs: number;
  private readonly locks: FileLocks;
  private readonly processLock = new KeyedLock();
  private readonly reportedFiles = new Set<string>();
  private readonly sweepTimer: NodeJS.Timeout;
  private directoryReady: Promise<unknown> | undefined;
  private tempFiles = 0;
  private sweeping: Promise<number> | undefined;

  constructor(options: FileStoreOptions = {}) {
    super();
    this.directory = options.directory ?? join('storage', 'sessions');
    this.name = `file (${this.directory})`;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
    this.locks = new FileLocks({
      staleLockMs: options.staleLockMs ?? 10_000,
      lockTimeoutMs: this.lockTimeoutMs,
    });
    this.sweepTimer = setInterval(() => void this.sweep(), options.sweepIntervalMs ?? 600_000);
    this.sweepTimer.unref();
  }

  private fileName(key: string): string {
    return sha256(key, 'hex');
  }

  private pathOf(name: string, suffix: string): string {
    return join(this.directory, name + suffix);
  }

  /** Unique within the folder, and names its writer: `<hash>.<writer token>.<n>.tmp`. */
  private tempPathOf(name: string): string {
    this.tempFiles += 1;
    return this.pathOf(`${name}.${processToken}.${this.tempFiles}`, tempSuffix);
  }

  /** Makes the folder once; a failure (a volume not mounted yet) is not remembered, the next call tries again. */
  private ensureDirectory(): Promise<unknown> {
    if (!this.directoryReady) {
      const ready = mkdir(this.directory, { recursive: true }).then(() => this.removeStaleFiles());
      this.directoryReady = ready;
      ready.catch(() => {
        if (this.directoryReady === ready) this.directoryReady = undefined;
      });
    }
    return this.directoryReady;
  }

  /** Runs a write into the folder; if the folder was removed meanwhile, makes it again and retries once. */
  private async inDirectory<T>(write: () => Promise<T>): Promise<T> {
    await this.ensureDirectory();
    try {
      return await write();
    } catch (error) {
      if (!isMissing(error)) throw error;
      this.directoryReady = undefined;
      await this.ensureDirectory();
      return write();
    }
  }

  private async readStoredFile(path: string): Promise<StoredFile | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (isStoredFile(parsed)) return parsed;
    } catch {
      // reported below, like any other unreadable file
    }
    if (!this.reportedFiles.has(path) && this.reportedFiles.size < 1000) {
      this.reportedFiles.add(path);
      this.emit('warning', `The session file ${path} cannot be parsed; it is ignored.`);
    }
    return undefined;
  }

  /** The `{ value, expires }` kept under a key, if it is there and live. */
  private async envelopeAt(key: string): Promise<{ value?: unknown; expires?: unknown } | undefined> {
    await this.ensureDirectory();
    const path = this.pathOf(this.fileName(key), dataSuffix);
    const stored = await this.readStoredFile(path);
    if (!stored || stored.key !== key) return undefined;
    if (isExpired(stored.expires)) {
      await unlink(path).catch(() => undefined);
      return undefined;
    }
    return parseEnvelope(stored.value) ?? {};
  }

  private async writeEnvelope(key: string, value: unknown, expires: number | undefined): Promise<void> {
    const name = this.fileName(key);
    const text = JSON.stringify({
      key,
      value: JSON.stringify({ value, expires }),
      expires,
    } satisfies StoredFile);
    await this.inDirectory(async () => {
      const tempPath = this.tempPathOf(name);
      try {
        await writeFile(tempPath, text, { mode: 0o600 });
        await rename(tempPath, this.pathOf(name, dataSuffix));
      } catch (error) {
        await unlink(tempPath).catch(() => undefined);
        throw error;
      }
    });
  }

  private async unlinkKey(key: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(this.fileName(key), dataSuffix));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /**
   * Runs `task` holding the key's lock, shared by every process on the folder; waiting for it (this process's
   * queue included) is bounded by lockTimeoutMs.
   */
  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.lockTimeoutMs;
    return this.processLock.run(key, async () => {
      const name = this.fileName(key);
      const lockPath = this.pathOf(name, lockSuffix);
      await this.inDirectory(() => this.locks.acquire(lockPath, () => this.tempPathOf(name), deadline));
      try {
        return await task();
      } finally {
        await this.locks.release(lockPath);
      }
    });
  }

  async read(key: string): Promise<ReadResult> {
    const envelope = await this.envelopeAt(key);
    if (envelope === undefined) return undefined;
    return asSessionRecord(envelope.value) ?? unreadableSession;
  }

  /**
   * Applies one request's change under the session's lock: reads the file, merges only the keys the change
   * names, writes it back through a temp file and a rename.
   */
  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    // a new session's id was just drawn at random: no other process can be writing it, nothing is stored yet
    if (change.create && !change.replace) {
      return this.processLock.run(key, () => this.write(key, undefined, change, expiresAt));
    }
    return this.withLock(key, async () => {
      const stored = await this.read(key);
      if (stored === undefined && !change.create) return 'gone';
      return this.write(key, stored === unreadableSession ? undefined : stored, change, expiresAt);
    });
  }

  private async write(
    key: string,
    stored: SessionRecord | undefined,
    change: SessionChange,
    expiresAt: number,
  ): Promise<ApplyResult> {
    await this.writeEnvelope(key, recordAfter(stored, change), expiresAt);
    return 'saved';
  }

  async remove(key: string): Promise<boolean> {
    return this.withLock(key, () => this.unlinkKey(key));
  }

  private async *storedFiles(): AsyncGenerator<[path: string, stored: StoredFile]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const name of names) {
      if (!name.endsWith(dataSuffix)) continue;
      const path = join(this.directory, name);
      const stored = await this.readStoredFile(path);
      if (stored) yield [path, stored];
    }
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    for await (const [, stored] of this.storedFiles()) {
      if (isUserIndexKey(stored.key) || isExpired(stored.expires)) continue;
      const record = asSessionRecord(parseEnvelope(stored.value)?.value);
      if (record) yield [stored.key, record];
    }
  }

  async expiryOf(key: string): Promise<number | undefined> {
    const expires = (await this.envelopeAt(key))?.expires;
    return typeof expires === 'number' ? expires : undefined;
  }

  async readValue(key: string): Promise<unknown> {
    return (await this.envelopeAt(key))?.value;
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.withLock(key, async () => {
      const next = await update(await this.readValue(key));
      if (next === undefined) await this.unlinkKey(key);
      else await this.writeEnvelope(key, next.value, next.expiresAt);
    });
  }

  async clear(): Promise<void> {
    for await (const [path] of this.storedFiles()) await unlink(path).catch(() => undefined);
  }

  /** Deletes expired session files and files left by crashed writers; resolves to how many were removed. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let removed = await this.removeStaleFiles();
    const now = Date.now();
    for await (const [path, stored] of this.storedFiles()) {
      if (isExpired(stored.expires, now)) {
        await unlink(path).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }

  /** Temp files whose writer is gone (or that are old), locks whose owner is gone, claims left by a crash. */
  private async removeStaleFiles(): Promise<number> {
    const names = await readdir(this.directory).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const path = join(this.directory, name);
      if (name.endsWith(lockSuffix)) {
        if (await this.locks.removeIfStale(path)) removed += 1;
        continue;
      }
      if (name.includes(`${lockSuffix}-`)) {
        if (await this.locks.removeIfStaleClaim(path)) removed += 1;
        continue;
      }
      if (!name.endsWith(tempSuffix)) continue;
      const writer = name.split('.').slice(1, 4).join('.');
      const gone = ownerIsGone(writer);
      if (gone === true || (gone === undefined && (await this.ageOf(path)) > staleTempMs)) {
        await unlink(path).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }

  private ageOf(path: string): Promise<number> {
    return lstat(path).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
  }
}
