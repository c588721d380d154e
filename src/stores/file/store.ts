import { readFile, rename, unlink, writeFile } from 'node:fs';
import * as files from 'node:fs/promises';
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
import { recordAfter } from '../../store/merge';
import { asSessionRecord, parseEnvelope } from '../../store/record';
import { isUserIndexKey } from '../../store/user-index-key';
import { FileLocks } from './lock';
import { ownerIsGone, processToken } from './owner';
import { readText } from './read-text';
import { remembered } from '../../remembered';

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

function storedFileIn(text: string): StoredFile | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isStoredFile(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/**
 * Where a step's outcome goes: an error, or null and the result (the convention of `node:fs` callbacks). The
 * hot paths are chains of these, one promise per store call: `fs/promises` makes a dozen per file operation.
 */
type Then<T> = (error: unknown, result?: T) => void;

function promised<T>(start: (then: Then<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    start((error, result) => (error == null ? resolve(result as T) : reject(error))),
  );
}

/** Runs a task that may return a promise and passes on its outcome. */
function settle<T>(task: () => T | Promise<T>, then: Then<T>): void {
  let result: T | Promise<T>;
  try {
    result = task();
  } catch (error) {
    return then(error ?? new Error(String(error)));
  }
  Promise.resolve(result).then(
    (value) => then(null, value),
    (error: unknown) => then(error ?? new Error(String(error))),
  );
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
  /** Per key, the calls waiting for the one running in this process (a key with no entry is free). */
  private readonly turns = new Map<string, Array<() => void>>();
  private readonly reportedFiles = new Set<string>();
  /** The folder as `join` writes it, with its separator: a file's path is this and its name. */
  private readonly pathPrefix: string;
  /** A request reads its session and then saves it: each key's hash is made once. */
  private readonly fileName = remembered((key: string) => sha256(key, 'hex'));
  private readonly sweepTimer: NodeJS.Timeout;
  private directoryReady: Promise<unknown> | undefined;
  /** `directoryReady` has resolved: the hot paths skip waiting for it. */
  private directoryMade = false;
  private tempFiles = 0;
  private sweeping: Promise<number> | undefined;

  constructor(options: FileStoreOptions = {}) {
    super();
    this.directory = options.directory ?? join('storage', 'sessions');
    this.name = `file (${this.directory})`;
    this.pathPrefix = join(this.directory, '_').slice(0, -1);
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
    this.locks = new FileLocks({
      staleLockMs: options.staleLockMs ?? 10_000,
      lockTimeoutMs: this.lockTimeoutMs,
    });
    this.sweepTimer = setInterval(() => void this.sweep(), options.sweepIntervalMs ?? 600_000);
    this.sweepTimer.unref();
  }

  private pathOf(name: string, suffix: string): string {
    return this.pathPrefix + name + suffix;
  }

  /** Unique within the folder, and names its writer: `<hash>.<writer token>.<n>.tmp`. */
  private tempPathOf(name: string): string {
    this.tempFiles += 1;
    return this.pathOf(`${name}.${processToken}.${this.tempFiles}`, tempSuffix);
  }

  /** Makes the folder once; a failure (a volume not mounted yet) is not remembered, the next call tries again. */
  private ensureDirectory(): Promise<unknown> {
    if (!this.directoryReady) {
      const ready: Promise<unknown> = files
        .mkdir(this.directory, { recursive: true })
        .then(() => this.removeStaleFiles())
        .then(() => {
          if (this.directoryReady === ready) this.directoryMade = true;
        });
      this.directoryReady = ready;
      ready.catch(() => {
        if (this.directoryReady === ready) this.directoryReady = undefined;
      });
    }
    return this.directoryReady;
  }

  private whenDirectoryReady(then: (error: unknown) => void): void {
    if (this.directoryMade) return then(null);
    this.ensureDirectory().then(() => then(null), then);
  }

  /** Runs a write into the folder; if the folder was removed meanwhile, makes it again and retries once. */
  private inDirectory<T>(write: (then: Then<T>) => void, then: Then<T>): void {
    this.whenDirectoryReady((error) => {
      if (error != null) return then(error);
      write((error, result) => {
        if (!isMissing(error)) return then(error, result);
        this.directoryMade = false;
        this.directoryReady = undefined;
        this.whenDirectoryReady((error) => (error != null ? then(error) : write(then)));
      });
    });
  }

  private reportUnreadable(path: string): void {
    if (!this.reportedFiles.has(path) && this.reportedFiles.size < 1000) {
      this.reportedFiles.add(path);
      this.emit('warning', `The session file ${path} cannot be parsed; it is ignored.`);
    }
  }

  private readStoredFile(path: string, then: Then<StoredFile | undefined>): void {
    readText(path, (error, text) => {
      if (error) return isMissing(error) ? then(null, undefined) : then(error);
      const stored = storedFileIn(text!);
      if (stored) return then(null, stored);
      // a read cut short, or a file that is not a session's: read it whole the usual way before judging it
      readFile(path, 'utf8', (error, text) => {
        if (error) return isMissing(error) ? then(null, undefined) : then(error);
        const stored = storedFileIn(text);
        if (!stored) this.reportUnreadable(path);
        then(null, stored);
      });
    });
  }

  /** The `{ value, expires }` kept under a key, if it is there and live. */
  private envelopeAt(key: string, then: Then<{ value?: unknown; expires?: unknown } | undefined>): void {
    this.whenDirectoryReady((error) => {
      if (error != null) return then(error);
      const path = this.pathOf(this.fileName(key), dataSuffix);
      this.readStoredFile(path, (error, stored) => {
        if (error != null) return then(error);
        if (!stored || stored.key !== key) return then(null, undefined);
        if (isExpired(stored.expires)) return unlink(path, () => then(null, undefined));
        then(null, parseEnvelope(stored.value) ?? {});
      });
    });
  }

  private readRecord(key: string, then: Then<ReadResult>): void {
    this.envelopeAt(key, (error, envelope) => {
      if (error != null) return then(error);
      then(null, envelope === undefined ? undefined : (asSessionRecord(envelope.value) ?? unreadableSession));
    });
  }

  private writeEnvelope(key: string, value: unknown, expires: number | undefined, then: Then<void>): void {
    const name = this.fileName(key);
    let text: string;
    try {
      text = JSON.stringify({
        key,
        value: JSON.stringify({ value, expires }),
        expires,
      } satisfies StoredFile);
    } catch (error) {
      return then(error);
    }
    const path = this.pathOf(name, dataSuffix);
    this.inDirectory<void>((then) => {
      const tempPath = this.tempPathOf(name);
      writeFile(tempPath, text, { mode: 0o600 }, (error) => {
        if (error) return unlink(tempPath, () => then(error));
        rename(tempPath, path, (error) => (error ? unlink(tempPath, () => then(error)) : then(null)));
      });
    }, then);
  }

  private unlinkKey(key: string, then: Then<boolean>): void {
    unlink(this.pathOf(this.fileName(key), dataSuffix), (error) => {
      if (!error) return then(null, true);
      return isMissing(error) ? then(null, false) : then(error);
    });
  }

  /** Runs `job` once the calls on `key` before it in this process are done; the next starts when it is. */
  private inTurn<T>(key: string, job: (then: Then<T>) => void): Promise<T> {
    return promised<T>((then) => {
      let done = false;
      const finish: Then<T> = (error, result) => {
        if (done) return;
        done = true;
        then(error, result);
        const next = this.turns.get(key)!.shift();
        if (next) next();
        else this.turns.delete(key);
      };
      const start = () => {
        try {
          job(finish);
        } catch (error) {
          finish(error);
        }
      };
      const waiting = this.turns.get(key);
      if (waiting) return waiting.push(start);
      this.turns.set(key, []);
      start();
    });
  }

  /**
   * Runs `job` holding the key's lock, shared by every process on the folder; waiting for it (this process's
   * queue included) is bounded by lockTimeoutMs.
   */
  private locked<T>(key: string, job: (then: Then<T>) => void): Promise<T> {
    const deadline = Date.now() + this.lockTimeoutMs;
    return this.inTurn<T>(key, (then) => {
      const name = this.fileName(key);
      const lockPath = this.pathOf(name, lockSuffix);
      const acquire = (then: Then<void>) =>
        this.locks.acquire(lockPath, () => this.tempPathOf(name), deadline, then);
      this.inDirectory(acquire, (error) => {
        if (error != null) return then(error);
        const jobDone: Then<T> = (jobError, result) =>
          this.locks.release(lockPath, (releaseError) =>
            releaseError != null ? then(releaseError) : then(jobError, result),
          );
        try {
          job(jobDone);
        } catch (jobError) {
          jobDone(jobError);
        }
      });
    });
  }

  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.locked<T>(key, (then) => settle(task, then));
  }

  read(key: string): Promise<ReadResult> {
    return promised((then) => this.readRecord(key, then));
  }

  /**
   * Applies one request's change under the session's lock: reads the file, merges only the keys the change
   * names, writes it back through a temp file and a rename.
   */
  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    // a new session's id was just drawn at random: no other process can be writing it, nothing is stored yet
    if (change.create && !change.replace) {
      return this.inTurn(key, (then) => this.write(key, undefined, change, expiresAt, then));
    }
    return this.locked<ApplyResult>(key, (then) =>
      this.readRecord(key, (error, stored) => {
        if (error != null) return then(error);
        if (stored === undefined && !change.create) return then(null, 'gone');
        this.write(key, stored === unreadableSession ? undefined : stored, change, expiresAt, then);
      }),
    );
  }

  private write(
    key: string,
    stored: SessionRecord | undefined,
    change: SessionChange,
    expiresAt: number,
    then: Then<ApplyResult>,
  ): void {
    let record: SessionRecord;
    try {
      record = recordAfter(stored, change);
    } catch (error) {
      return then(error);
    }
    this.writeEnvelope(key, record, expiresAt, (error) =>
      error != null ? then(error) : then(null, 'saved'),
    );
  }

  remove(key: string): Promise<boolean> {
    return this.locked<boolean>(key, (then) => this.unlinkKey(key, then));
  }

  private async *storedFiles(): AsyncGenerator<[path: string, stored: StoredFile]> {
    let names: string[];
    try {
      names = await files.readdir(this.directory);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const name of names) {
      if (!name.endsWith(dataSuffix)) continue;
      const path = join(this.directory, name);
      const stored = await promised<StoredFile | undefined>((then) => this.readStoredFile(path, then));
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
    const expires = (await promised<{ expires?: unknown } | undefined>((then) => this.envelopeAt(key, then)))
      ?.expires;
    return typeof expires === 'number' ? expires : undefined;
  }

  async readValue(key: string): Promise<unknown> {
    return (await promised<{ value?: unknown } | undefined>((then) => this.envelopeAt(key, then)))?.value;
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.locked<void>(key, (then) =>
      this.envelopeAt(key, (error, envelope) => {
        if (error != null) return then(error);
        settle(
          () => update(envelope?.value),
          (error, next) => {
            if (error != null) return then(error);
            if (next === undefined) this.unlinkKey(key, (error) => then(error));
            else this.writeEnvelope(key, next.value, next.expiresAt, then);
          },
        );
      }),
    );
  }

  async clear(): Promise<void> {
    for await (const [path] of this.storedFiles()) await files.unlink(path).catch(() => undefined);
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
        await files.unlink(path).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }

  /** Temp files whose writer is gone (or that are old), locks whose owner is gone, claims left by a crash. */
  private async removeStaleFiles(): Promise<number> {
    const names = await files.readdir(this.directory).catch(() => [] as string[]);
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
        await files.unlink(path).catch(() => undefined);
        removed += 1;
      }
    }
    return removed;
  }

  private ageOf(path: string): Promise<number> {
    return files.lstat(path).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
  }
}
