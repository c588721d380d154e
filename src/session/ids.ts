import { createHash, randomBytes } from 'node:crypto';
import { remembered } from '../remembered';

const idBytes = 32;
/** Random bytes drawn for the next 128 ids at once: one call to the CSPRNG instead of one per new session. */
let randomPool = Buffer.alloc(0);
let poolOffset = 0;
let poolProcess = process.pid;

/** 256 random bits, base64url: the value a client holds (signed) in its cookie. Each is drawn once, never reused. */
export function generateSessionId(): string {
  // drawn again in another process (one started from a V8 startup snapshot of this heap would repeat it)
  if (poolOffset + idBytes > randomPool.length || poolProcess !== process.pid) {
    randomPool = randomBytes(idBytes * 128);
    poolOffset = 0;
    poolProcess = process.pid;
  }
  const id = randomPool.toString('base64url', poolOffset, poolOffset + idBytes);
  poolOffset += idBytes;
  return id;
}

export function sha256(text: string, encoding: 'hex' | 'base64url'): string {
  return createHash('sha256').update(text).digest(encoding);
}

/** The store key of a session: a hash, so a dump of the store holds no usable cookie value. */
export const storeKeyOf = remembered((sessionId: string) => sha256(sessionId, 'base64url'));
