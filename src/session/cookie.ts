import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import { SessionValidationError } from '../errors';
import { remembered } from '../remembered';

/** `'auto'`: `None` on a secure request (with Secure), `Lax` otherwise, as in express-session. */
export type SameSite = boolean | 'lax' | 'strict' | 'none' | 'auto';

/** Cookie attributes, named as in express-session. `maxAge` is in milliseconds. */
export interface SessionCookieOptions {
  maxAge?: number | null;
  expires?: Date | null;
  httpOnly?: boolean;
  /** `'auto'` (the default) sets Secure when the request came over https. */
  secure?: boolean | 'auto';
  sameSite?: SameSite;
  path?: string;
  domain?: string;
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
}

/** What a store keeps of the cookie (express-session's record format). */
export interface SessionCookieJSON {
  originalMaxAge: number | null;
  expires: string | null;
  httpOnly: boolean;
  secure?: boolean;
  sameSite?: SameSite;
  path: string;
  domain?: string;
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
}

const longestCookieValue = 4096;

/** `request.session.cookie`: the same fields and behaviour as express-session's Cookie. */
export class SessionCookie {
  originalMaxAge: number | null = null;
  httpOnly = true;
  secure: boolean | 'auto' = 'auto';
  sameSite: SameSite = 'lax';
  path = '/';
  domain: string | undefined;
  partitioned: boolean | undefined;
  priority: 'low' | 'medium' | 'high' | undefined;
  private expiresAt: Date | null = null;

  constructor(options: SessionCookieOptions = {}) {
    assignAttributes(this, options);
    if (options.expires) this.expires = options.expires;
    if (typeof options.maxAge === 'number') this.maxAge = options.maxAge;
    this.originalMaxAge ??= this.maxAge;
  }

  get expires(): Date | null {
    return this.expiresAt;
  }

  set expires(date: Date | null) {
    if (date !== null && !(date instanceof Date && Number.isFinite(date.valueOf()))) {
      throw new SessionValidationError(
        `session.cookie.expires was set to ${String(date)}; set a valid Date, or null for a browser-session cookie.`,
      );
    }
    this.expiresAt = date;
    this.originalMaxAge = this.maxAge;
  }

  /** Milliseconds until the cookie expires; null for a browser-session cookie. */
  get maxAge(): number | null {
    return this.expiresAt ? this.expiresAt.valueOf() - Date.now() : null;
  }

  set maxAge(milliseconds: number | null) {
    if (milliseconds !== null && milliseconds !== undefined && !Number.isFinite(milliseconds)) {
      throw new SessionValidationError(
        `session.cookie.maxAge was set to ${String(milliseconds)}; set a number of milliseconds, or null for a browser-session cookie.`,
      );
    }
    this.expires = typeof milliseconds === 'number' ? new Date(Date.now() + milliseconds) : null;
    // the expires setter measured it a moment later; the value given is the exact one
    if (typeof milliseconds === 'number') this.originalMaxAge = milliseconds;
  }

  /** Restarts the expiry from now (express-session's `resetMaxAge`). */
  resetMaxAge(): void {
    this.maxAge = this.originalMaxAge;
  }

  serialize(name: string, value: string, isSecureRequest: boolean): string {
    return stringifySetCookie(name, value, {
      expires: this.expiresAt ?? undefined,
      httpOnly: this.httpOnly,
      secure: this.secure === 'auto' ? isSecureRequest : this.secure,
      sameSite: this.sameSite === 'auto' ? (isSecureRequest ? 'none' : 'lax') : this.sameSite,
      path: this.path,
      domain: this.domain,
      partitioned: this.partitioned,
      priority: this.priority,
    });
  }

  /** The cookie a stored session had: its own maxAge, expiry and attributes over the configured ones. */
  static restore(json: SessionCookieJSON, defaults: SessionCookieOptions): SessionCookie {
    const cookie = new SessionCookie();
    assignAttributes(cookie, defaults);
    assignAttributes(cookie, json);
    const { originalMaxAge, expires } = json;
    const expiry = expires ? new Date(expires) : null;
    cookie.expiresAt = expiry && Number.isFinite(expiry.valueOf()) ? expiry : null;
    cookie.originalMaxAge = typeof originalMaxAge === 'number' ? originalMaxAge : null;
    return cookie;
  }

  /** The same cookie already expired: what makes a browser drop the cookie it holds (same path and domain). */
  expired(): SessionCookie {
    const cookie = SessionCookie.restore({ ...this.toJSON(), originalMaxAge: null }, {});
    cookie.expiresAt = new Date(0);
    return cookie;
  }

  /** The cookie's settings, without its moving expiry: what a session keeps when it differs from the configured ones. */
  settings(): string {
    const { originalMaxAge, httpOnly, sameSite, path, secure, domain, partitioned, priority } = this;
    return JSON.stringify([originalMaxAge, httpOnly, sameSite, path, secure, domain, partitioned, priority]);
  }

  toJSON(): SessionCookieJSON {
    const json: SessionCookieJSON = {
      originalMaxAge: this.originalMaxAge,
      expires: this.expiresAt ? this.expiresAt.toISOString() : null,
      httpOnly: this.httpOnly,
      sameSite: this.sameSite,
      path: this.path,
    };
    if (this.secure !== 'auto') json.secure = this.secure;
    if (this.domain !== undefined) json.domain = this.domain;
    if (this.partitioned !== undefined) json.partitioned = this.partitioned;
    if (this.priority !== undefined) json.priority = this.priority;
    return json;
  }
}

const attributeNames = [
  'httpOnly',
  'secure',
  'sameSite',
  'path',
  'domain',
  'partitioned',
  'priority',
] as const;

/** Copies the attributes `source` gives (not maxAge or expires; undefined ones leave the cookie's as they are). */
function assignAttributes(
  cookie: SessionCookie,
  source: Partial<Record<(typeof attributeNames)[number], unknown>>,
): void {
  const target = cookie as unknown as Record<string, unknown>;
  for (const name of attributeNames) {
    const value = source[name];
    if (value !== undefined) target[name] = value;
  }
}

/** A signing secret: a string or the bytes of one. */
export type CookieSecret = string | Buffer;

function signature(value: string, secret: CookieSecret): string {
  return createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
}

/** express-session's cookie value: `s:<id>.<HMAC-SHA256 in base64 without padding>`. */
export function signSessionId(id: string, secret: CookieSecret): string {
  return `s:${id}.${signature(id, secret)}`;
}

export interface UnsignedSessionId {
  id: string;
  /** False when the cookie was signed with a secret other than the first: it should be re-signed. */
  signedWithCurrentSecret: boolean;
  /** It came in the session header (option `header`), not in the cookie. */
  byHeader?: boolean;
}

/**
 * Cookie values whose signature checked out lately, per list of secrets: a client sends the same cookie on each
 * request, and its HMAC is then computed once. Only verified values are kept, so a forgery is checked every time.
 */
const verifiers = new WeakMap<
  readonly CookieSecret[],
  (cookieValue: string) => UnsignedSessionId | undefined
>();

/** Checks the signature against every secret; undefined for anything unsigned, malformed or forged. */
export function unsignSessionId(
  cookieValue: string,
  secrets: readonly CookieSecret[],
): Readonly<UnsignedSessionId> | undefined {
  let verify = verifiers.get(secrets);
  if (verify === undefined) {
    verify = remembered((value) => verifySignature(value, secrets));
    verifiers.set(secrets, verify);
  }
  return verify(cookieValue);
}

function verifySignature(
  cookieValue: string,
  secrets: readonly CookieSecret[],
): UnsignedSessionId | undefined {
  if (!cookieValue.startsWith('s:')) return undefined;
  const signed = cookieValue.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const [index, secret] of secrets.entries()) {
    const expected = Buffer.from(signature(id, secret));
    if (expected.length === given.length && timingSafeEqual(expected, given)) {
      return { id, signedWithCurrentSecret: index === 0 };
    }
  }
  return undefined;
}

/** What cookie-parser leaves on a request, when it ran first. */
interface ParsedCookies {
  cookies?: Record<string, unknown>;
  signedCookies?: Record<string, unknown>;
}

/** The session id from a request header (option `header`), signed as the cookie is. */
export function readHeaderSessionId(
  request: IncomingMessage,
  headerName: string,
  secrets: readonly CookieSecret[],
): UnsignedSessionId | undefined {
  const value = request.headers[headerName];
  const unsigned = unsignCookie(Array.isArray(value) ? value[0] : value, secrets);
  return unsigned && { ...unsigned, byHeader: true };
}

/**
 * The session id from the request's cookie header, if one is present and correctly signed; as in
 * express-session, failing that, from cookie-parser's `req.signedCookies` (already verified) or `req.cookies`.
 */
export function readSessionId(
  request: IncomingMessage,
  cookieName: string,
  secrets: readonly CookieSecret[],
): UnsignedSessionId | undefined {
  const header = request.headers.cookie;
  const fromHeader =
    typeof header === 'string' && header.length > 0
      ? unsignCookie(parseCookie(header)[cookieName], secrets)
      : undefined;
  if (fromHeader) return fromHeader;
  const { signedCookies, cookies } = request as IncomingMessage & ParsedCookies;
  const verified = signedCookies?.[cookieName];
  if (typeof verified === 'string' && verified.length > 0 && verified.length <= longestCookieValue) {
    return { id: verified, signedWithCurrentSecret: true };
  }
  return unsignCookie(cookies?.[cookieName], secrets);
}

function unsignCookie(
  value: unknown,
  secrets: readonly CookieSecret[],
): Readonly<UnsignedSessionId> | undefined {
  if (typeof value !== 'string' || value.length > longestCookieValue) return undefined;
  return unsignSessionId(value, secrets);
}
