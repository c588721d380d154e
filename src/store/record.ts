import type { SessionCookieJSON } from '../session/cookie';
import type { SessionDataRecord } from '../session/session';

/** What the store holds for one session. */
export interface SessionRecord {
  data: SessionDataRecord;
  meta: SessionRecordMeta;
  /** The stored JSON of each data key, from a store that keeps keys apart (memory, Redis): spares a stringify. */
  json?: ReadonlyMap<string, string>;
}

export interface SessionRecordMeta {
  createdAt: number;
  lastSeenAt: number;
  /** Kept for express-session stores only, whose record format has the cookie. */
  cookie?: SessionCookieJSON;
  /** Keys flashed by the last request, to be removed by the next one. */
  flash?: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Accepts only a well-formed record; anything else read from a store counts as no session. */
export function asSessionRecord(value: unknown): SessionRecord | undefined {
  if (!isObject(value) || !isObject(value.data) || !isObject(value.meta)) return undefined;
  const { createdAt, lastSeenAt, flash, cookie } = value.meta;
  if (typeof createdAt !== 'number' || typeof lastSeenAt !== 'number') return undefined;
  if (flash !== undefined && !isStringList(flash)) return undefined;
  if (cookie !== undefined && !isObject(cookie)) return undefined;
  return value as unknown as SessionRecord;
}

/** The `{ value, expires }` JSON a Keyv of this library stores; undefined when the text is not such an object. */
export function parseEnvelope(text: string | null): { value?: unknown; expires?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(text ?? 'null');
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}
