import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SessionConfigError } from '../errors';
import { createDataRecord } from '../session/change-tracker';
import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from './contract';
import { unreadableSession } from './contract';
import { KeyedLock } from './keyed-lock';
import { jsonAfterOp } from './merge';

/** A key as given: 32 bytes, or a passphrase of at least 32 characters (hashed to 32 bytes). */
export type EncryptionKey = string | Buffer;

interface SealingKey {
  id: string;
  bytes: Buffer;
}

const sealedPrefix = 'rcs1';

function sealingKeyOf(key: EncryptionKey, position: number): SealingKey {
  let bytes: Buffer;
  if (Buffer.isBuffer(key) && key.length === 32) bytes = key;
  else if (typeof key === 'string' && key.length >= 32) bytes = createHash('sha256').update(key).digest();
  else {
    throw new SessionConfigError(
      `Option encryption.keys[${position}] must be 32 bytes (a Buffer, e.g. crypto.randomBytes(32)) or a ` +
        'passphrase of at least 32 characters.',
    );
  }
  return { id: createHash('sha256').update(bytes).digest('base64url').slice(0, 8), bytes };
}

/** The keys, current first; a SessionConfigError for none, or one too weak. */
export function sealingKeysOf(keys: unknown): SealingKey[] {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new SessionConfigError(
      'Option encryption.keys must list one key or more, the current one first: { encryption: { keys: [current, ...previous] } }.',
    );
  }
  return keys.map((key, position) => sealingKeyOf(key as EncryptionKey, position));
}

/** What binds a sealed value to its place: it opens only under the same session key and field. */
const placeOf = (storeKey: string, field: string) => Buffer.from(`${storeKey}\u0000${field}`);

/**
 * Seals each data field of every session with AES-256-GCM before the store sees it (`rcs1.<key id>.<iv>.<tag>.
 * <ciphertext>`, as a JSON string), and opens it on the way back: a copy of the store or of its backups holds
 * no session data. Fields stay apart, so the Redis hash's per-field writes go on as before; the meta (times,
 * flash key names) is left readable for expiry. New writes use the first key; a field sealed with an older one
 * still opens. A field that does not open (a key removed, tampering) makes the record no session.
 *
 * A store cannot add to a sealed value, so a change's increments and pushes are worked out here on the opened
 * values and stored as keys set: read, work out, write, one after another for a session within this process
 * (at once for a store in this process), but not across processes.
 */
export class EncryptedStore implements SessionStore {
  readonly name: string;
  readonly keepsRawIds?: boolean;
  readonly callTimeoutMs?: number;
  private readonly keys: SealingKey[];
  private readonly opsLock = new KeyedLock();

  constructor(
    private readonly inner: SessionStore,
    keys: EncryptionKey[],
  ) {
    this.keys = sealingKeysOf(keys);
    this.name = `${inner.name}, encrypted`;
    this.keepsRawIds = inner.keepsRawIds;
    this.callTimeoutMs = inner.callTimeoutMs;
    if (inner.readNow) this.readNow = (key) => this.opened(key, inner.readNow!(key));
    if (inner.applyNow) {
      this.applyNow = (key, change, expiresAt) => {
        if (!change.ops) return inner.applyNow!(key, this.sealed(key, change), expiresAt);
        if (!inner.readNow) return undefined;
        const worked = this.opsWorkedOut(change, this.opened(key, inner.readNow(key)));
        return inner.applyNow!(key, this.sealed(key, worked), expiresAt);
      };
    }
  }

  readNow?(key: string): ReadResult;
  applyNow?(key: string, change: SessionChange, expiresAt: number): ApplyResult | undefined;

  get connected(): boolean | undefined {
    return this.inner.connected;
  }

  private seal(storeKey: string, field: string, json: string): string {
    const key = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv).setAAD(placeOf(storeKey, field));
    const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    const parts = [sealedPrefix, key.id, iv, cipher.getAuthTag(), sealed];
    return JSON.stringify(
      parts.map((part) => (Buffer.isBuffer(part) ? part.toString('base64url') : part)).join('.'),
    );
  }

  /** The field's JSON, or undefined when it does not open. */
  private open(storeKey: string, field: string, value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const [prefix, keyId, iv, tag, sealed] = value.split('.');
    const key = this.keys.find((candidate) => candidate.id === keyId);
    if (prefix !== sealedPrefix || !key || iv === undefined || tag === undefined || sealed === undefined) {
      return undefined;
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'))
        .setAAD(placeOf(storeKey, field))
        .setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }

  private opened(storeKey: string, stored: ReadResult): ReadResult {
    if (stored === undefined || stored === unreadableSession) return stored;
    const data = createDataRecord();
    const json = new Map<string, string>();
    for (const field in stored.data) {
      const opened = this.open(storeKey, field, stored.data[field]);
      if (opened === undefined) return unreadableSession;
      data[field] = JSON.parse(opened);
      json.set(field, opened);
    }
    return { data, meta: stored.meta, json };
  }

  /** The change with its ops replaced by the keys set that they make of the stored values. */
  private opsWorkedOut(change: SessionChange, stored: ReadResult): SessionChange {
    const json = change.replace || stored === unreadableSession ? undefined : stored?.json;
    const set = { ...change.set };
    for (const op of change.ops!) set[op.key] = jsonAfterOp(json?.get(op.key), op);
    const { ops: _worked, ...rest } = change;
    return { ...rest, set };
  }

  private sealed(storeKey: string, change: SessionChange): SessionChange {
    const set: Record<string, string> = {};
    for (const field in change.set) set[field] = this.seal(storeKey, field, change.set[field]!);
    return { ...change, set };
  }

  async read(key: string): Promise<ReadResult> {
    return this.opened(key, await this.inner.read(key));
  }

  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    if (!change.ops) return this.inner.apply(key, this.sealed(key, change), expiresAt);
    return this.opsLock.run(key, async () => {
      const atOnce = this.applyNow?.(key, change, expiresAt);
      if (atOnce !== undefined) return atOnce;
      const worked = this.opsWorkedOut(change, await this.read(key));
      return this.inner.apply(key, this.sealed(key, worked), expiresAt);
    });
  }

  remove(key: string): Promise<boolean> {
    return this.inner.remove(key);
  }

  expiryOf(key: string): Promise<number | undefined> {
    return this.inner.expiryOf ? this.inner.expiryOf(key) : Promise.resolve(undefined);
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    for await (const [key, record] of this.inner.list()) {
      const opened = this.opened(key, record);
      if (opened && opened !== unreadableSession) yield [key, opened];
    }
  }

  readValue(key: string): Promise<unknown> {
    return this.inner.readValue(key);
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.inner.updateValue(key, update);
  }

  clear(): Promise<void> {
    return this.inner.clear();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
