import {
  link,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  rename,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { createDataRecord } from '../../session/change-tracker';
import { sha256 } from '../../session/ids';
import type { SessionRecord } from '../../store/record';
import { asSessionRecord, parseEnvelope } from '../../store/record';
import { KeyvAdapterBase, isExpired } from '../adapter-base';
import type { AtomicSessionStore, SessionChange } from '../../store/contract';
import { flashKeysAfter, unreadableSession } from '../../store/contract';
import { takeWithBackOff } from '../../store/back-off';
import { KeyedLock } from '../../store/keyed-lock';

export interface FileStoreOptions {
  /** Where session files live; created when missing. Default `storage/sessions`. */
  directory?: string;
  /** How often expired files are swept, in milliseconds. Default 10 minutes. */
  sweepIntervalMs?: number;
  /** A lock file older than this is taken to be left by a crashed process. Default 10 s. */
  staleLockMs?: number;
  /** How long a save waits for a session's lock before it fails. Default 5 s (the session's storeTimeout). */
  lockTimeoutMs?: number;
}

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

function isTaken(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'EEXIST';
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a temp file's name (`<hash>.<pid>.<random>.tmp`). */
function writerOf(tempName: string): number {
  return Number(tempName.split('.')[1]);
}

/**
 * A Keyv storage adapter that keeps one file per session. File names are hashes of the key, writes go
 * through a temp file and a rename (no torn or partial files), every get re-reads the file (so several
 * processes share one directory), and expired files are swept in the background.
 */
export class FileStore extends KeyvAdapterBase implements AtomicSessionStore {
  readonly directory: string;
  private readonly staleLockMs: number;
  private readonly lockTimeoutMs: number;
  private readonly processLock = new KeyedLock();
  private readonly reportedFiles = new Set<string>();
  private readonly sweepTimer: NodeJS.Timeout;
  private directoryReady: Promise<unknown> | undefined;
  private tempFiles = 0;
  private sweeping: Promise<number> | undefined;
  private symlinkLocks = true;

  constructor(options: FileStoreOptions = {}) {
    super();
    this.directory = options.directory ?? join('storage', 'sessions');
    this.staleLockMs = options.staleLockMs ?? 10_000;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
    this.sweepTimer = setInterval(() => void this.sweep(), options.sweepIntervalMs ?? 600_000);
    this.sweepTimer.unref();
  }

  private fileName(key: string): string {
    return sha256(this.prefixed(key), 'hex');
  }

  private pathOf(name: string, suffix: string): string {
    return join(this.directory, name + suffix);
  }

  /** Unique within the directory: a writer's pid and its own counter (`<hash>.<pid>.<n>.tmp`). */
  private tempPathOf(name: string): string {
    this.tempFiles += 1;
    return this.pathOf(`${name}.${process.pid}.${this.tempFiles}`, tempSuffix);
  }

  /** Makes the directory once; a failure (a volume not mounted yet) is not remembered, the next call tries again. */
  private ensureDirectory(): Promise<unknown> {
    if (!this.directoryReady) {
      const ready = mkdir(this.directory, { recursive: true }).then(() => this.removeStaleTempFiles());
      this.directoryReady = ready;
      ready.catch(() => {
        if (this.directoryReady === ready) this.directoryReady = undefined;
      });
    }
    return this.directoryReady;
  }

  /** Runs a write into the directory; if the directory was removed meanwhile, makes it again and retries once. */
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
    if (!this.reportedFiles.has(path)) {
      this.reportedFiles.add(path);
      this.emit('warning', `The session file ${path} cannot be parsed; it is ignored.`);
    }
    return undefined;
  }

  async get(key: string): Promise<string | undefined> {
    await this.ensureDirectory();
    const path = this.pathOf(this.fileName(key), dataSuffix);
    const stored = await this.readStoredFile(path);
    if (!stored || stored.key !== this.prefixed(key)) return undefined;
    if (isExpired(stored.expires)) {
      await unlink(path).catch(() => undefined);
      return undefined;
    }
    return stored.value;
  }

  protected async setUntil(key: string, value: unknown, expires: number | undefined): Promise<boolean> {
    const name = this.fileName(key);
    const text = JSON.stringify({
      key: this.prefixed(key),
      value: String(value),
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
    return true;
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(this.fileName(key), dataSuffix));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
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

  async clear(): Promise<void> {
    for await (const [path, stored] of this.storedFiles()) {
      if (this.unprefixed(stored.key) !== undefined) await unlink(path).catch(() => undefined);
    }
  }

  async *iterator(): AsyncGenerator<[string, string], void> {
    for await (const [, stored] of this.storedFiles()) {
      const key = this.unprefixed(stored.key);
      if (key !== undefined && !isExpired(stored.expires)) yield [key, stored.value];
    }
  }

  /** Deletes expired session files and temp files left by crashed writers; resolves to how many were removed. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let removed = await this.removeStaleTempFiles();
    const now = Date.now();
    for await (const [path, stored] of this.storedFiles()) {
      if (isExpired(stored.expires, now)) {
        await unlink(path).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }

  /** Temp files whose writer died (or that are old) and lock files whose owner died (or that are stale). */
  private async removeStaleTempFiles(): Promise<number> {
    const names = await readdir(this.directory).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const isTemp = name.endsWith(tempSuffix);
      if (!isTemp && !name.endsWith(lockSuffix)) continue;
      const path = join(this.directory, name);
      const stale = isTemp
        ? !isRunning(writerOf(name)) || (await this.ageOf(path)) > staleTempMs
        : await this.isStaleLock(path);
      if (stale) {
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

  /** A lock file holds its owner's pid: stale when that process is gone, or when older than staleLockMs. */
  private async isStaleLock(lockPath: string): Promise<boolean> {
    const ownerText = await readlink(lockPath).catch(() => readFile(lockPath, 'utf8').catch(() => ''));
    const owner = Number(ownerText);
    if (owner > 0 && owner !== process.pid && !isRunning(owner)) return true;
    return (await this.ageOf(lockPath)) > this.staleLockMs;
  }

  /**
   * Runs `task` while holding this session's lock, shared by every process on the directory: a lock file
   * created exclusively, holding the owner's pid, removed by its owner, and taken over when its owner is
   * gone or it is older than staleLockMs. Waiting for it (queue included) is bounded by lockTimeoutMs.
   */
  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.lockTimeoutMs;
    return this.processLock.run(key, async () => {
      const name = this.fileName(key);
      const lockPath = this.pathOf(name, lockSuffix);
      await this.inDirectory(() => this.acquireLockFile(name, lockPath, deadline));
      try {
        return await task();
      } finally {
        await unlink(lockPath).catch(() => undefined);
      }
    });
  }

  /**
   * The lock is a symbolic link whose target is the owner's pid: created in one exclusive, atomic step, so a
   * process killed at any point leaves either no lock or one naming a dead owner. Where symbolic links are
   * not allowed (Windows without the right), a pid file written aside and hard-linked into place does the same.
   */
  private acquireLockFile(name: string, lockPath: string, deadline: number): Promise<void> {
    const tryTake = async () => {
      if (await this.tryLock(name, lockPath)) return true;
      if (await this.isStaleLock(lockPath)) await unlink(lockPath).catch(() => undefined);
      return false;
    };
    return takeWithBackOff(
      tryTake,
      deadline,
      () => `the session lock ${lockPath} was not released within ${this.lockTimeoutMs} ms`,
    );
  }

  /** One attempt at the lock: true when taken, false when another owner holds it. */
  private async tryLock(name: string, lockPath: string): Promise<boolean> {
    try {
      if (this.symlinkLocks) await symlink(String(process.pid), lockPath);
      else await this.linkPidFile(name, lockPath);
      return true;
    } catch (error) {
      if (isTaken(error)) return false;
      const code = (error as NodeJS.ErrnoException).code;
      if (!this.symlinkLocks || (code !== 'EPERM' && code !== 'ENOTSUP')) throw error;
      this.symlinkLocks = false;
      return this.tryLock(name, lockPath);
    }
  }

  private async linkPidFile(name: string, lockPath: string): Promise<void> {
    const tempPath = this.tempPathOf(name);
    try {
      await writeFile(tempPath, String(process.pid));
      await link(tempPath, lockPath);
    } finally {
      await unlink(tempPath).catch(() => undefined);
    }
  }

  /** Keyv's value of a session file, read as a session record; the unreadable marker for anything else. */
  async readSession(key: string): Promise<SessionRecord | typeof unreadableSession | undefined> {
    const value = await this.get(key);
    if (value === undefined) return undefined;
    return asSessionRecord(parseEnvelope(value)?.value) ?? unreadableSession;
  }

  /**
   * Applies one request's change under the session's lock: reads the file, merges only the keys the change
   * names (and the flash keys), writes it back through a temp file and a rename. 'gone' when the session is
   * no longer stored and the change does not create it.
   */
  applySession(key: string, change: SessionChange, expiresAt: number): Promise<'saved' | 'gone'> {
    // a new session's id was just drawn at random: no other process can be writing it, nothing is stored yet
    const lock = change.create ? this.processLock.run.bind(this.processLock) : this.withLock.bind(this);
    return lock(key, async () => {
      const stored = change.create ? undefined : await this.readSession(key);
      if (stored === undefined && !change.create) return 'gone';
      const latest = stored === unreadableSession ? undefined : stored;
      const data = createDataRecord(Object.entries(latest?.data ?? {}));
      for (const [name, json] of Object.entries(change.set)) data[name] = JSON.parse(json);
      for (const name of change.removed) delete data[name];
      const flash = flashKeysAfter(latest?.meta.flash ?? [], change);
      const meta = { ...change.meta, ...(flash.length > 0 ? { flash } : {}) };
      await this.setUntil(key, JSON.stringify({ value: { data, meta }, expires: expiresAt }), expiresAt);
      return 'saved';
    });
  }

  /** Removes a session under its lock, so that an apply that read it before cannot write it back. */
  async removeSession(key: string): Promise<void> {
    await this.withLock(key, () => this.delete(key));
  }

  override async disconnect(): Promise<void> {
    clearInterval(this.sweepTimer);
  }
}
