import type { IncomingMessage } from 'node:http';
import type { SessionLogger } from '../config/options';

/** The settings that silently lose sessions, each warned of once, at the first request that shows it. */
export type Misconfiguration =
  | 'secure cookie behind a proxy'
  | 'sameSite none without secure'
  | 'cookie too large'
  | 'store expiry before the cookie';

/** Browsers ignore a cookie whose Set-Cookie line is longer (RFC 6265bis, and what Chromium and Firefox do). */
export const longestSetCookie = 4096;

const durationText = (milliseconds: number) => {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
  ];
  for (const [size, unit] of units) {
    if (milliseconds >= size) return `${Math.round((milliseconds / size) * 10) / 10}${unit}`;
  }
  return `${Math.round(milliseconds / 1000)}s`;
};

/** The first X-Forwarded-Proto of a request, lower-cased. */
function forwardedProtocolOf(request: IncomingMessage): string | undefined {
  const forwarded = request.headers['x-forwarded-proto'];
  return (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
}

/** Warns of each misconfiguration once per app, through the app's logger, naming the option to set. */
export class MisconfigurationWarnings {
  private readonly warned = new Set<Misconfiguration>();

  constructor(private readonly logger: SessionLogger) {}

  private warnOnce(kind: Misconfiguration, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.logger.warn(`routing-controllers-session: ${message}`);
  }

  /** A Secure cookie was due on a plain-http request that a TLS proxy forwarded, and nothing trusts the proxy. */
  droppedSecureCookie(request: IncomingMessage, proxyOption: boolean | undefined): void {
    if (this.warned.has('secure cookie behind a proxy') || proxyOption !== undefined) return;
    if (forwardedProtocolOf(request) !== 'https') return;
    this.warnOnce(
      'secure cookie behind a proxy',
      'the session cookie is Secure (cookie.secure: true), but this request reached the app over plain http ' +
        'with X-Forwarded-Proto: https, and neither the proxy option nor Express\'s "trust proxy" is set: no ' +
        'cookie was sent, so the session is lost at the next request. Behind a proxy that terminates TLS, set ' +
        "proxy: true in the session options (or app.set('trust proxy', 1)).",
    );
  }

  /** The cookie says SameSite=None without Secure: browsers reject it. */
  sameSiteNoneWithoutSecure(secure: boolean | 'auto'): void {
    this.warnOnce(
      'sameSite none without secure',
      `the session cookie has sameSite: 'none' but is not Secure (cookie.secure: ${String(secure === 'auto' ? "'auto'" : secure)}` +
        `${secure === 'auto' ? ' on a plain-http request' : ''}): browsers reject such a cookie, and the session ` +
        "is lost. Set cookie.secure: true and serve over https, or use sameSite: 'lax'.",
    );
  }

  /** The Set-Cookie line is longer than browsers keep. */
  cookieTooLarge(bytes: number): void {
    this.warnOnce(
      'cookie too large',
      `the session's Set-Cookie header is ${bytes} bytes; browsers ignore a cookie longer than ` +
        `${longestSetCookie}, and the session is lost. Shorten the cookie's name, cookie.domain or ` +
        'cookie.path, or the ids that genid makes.',
    );
  }

  /** The store lets the session expire before its persistent cookie does. */
  storeExpiresFirst(storeLifetimeMs: number, cookieMaxAgeMs: number): void {
    this.warnOnce(
      'store expiry before the cookie',
      `sessions expire in the store after ${durationText(storeLifetimeMs)} (idleTimeout, absoluteTimeout) ` +
        `while their cookie lives ${durationText(cookieMaxAgeMs)} (cookie.maxAge): the browser keeps a cookie ` +
        'for a session that is gone. Set idleTimeout and absoluteTimeout to at least cookie.maxAge, or leave ' +
        'them unset so that a session lives as long as its cookie.',
    );
  }
}
