import type { ResolvedSessionConfig } from './options';

/** How long one session may live: unused for `idleMs`, or `absoluteMs` after it was created. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number | undefined;
}

/**
 * The limits of a session whose cookie has `cookieMaxAge` (null: a browser-session cookie). A timeout the
 * options set always applies; one they leave unset follows the cookie, as with express-session, so a login
 * that sets `cookie.maxAge` to 30 days ("remember me") lives 30 days from its last use.
 */
export function sessionLimits(config: ResolvedSessionConfig, cookieMaxAge: number | null): SessionLimits {
  const followsCookie = cookieMaxAge !== null && cookieMaxAge > 0;
  return {
    idleMs: config.idleTimeoutSet || !followsCookie ? config.idleTimeoutMs : cookieMaxAge,
    absoluteMs: config.absoluteTimeoutSet || !followsCookie ? config.absoluteTimeoutMs : undefined,
  };
}

export function hasExpired(
  limits: SessionLimits,
  createdAt: number,
  lastSeenAt: number,
  now: number,
): boolean {
  if (now - lastSeenAt > limits.idleMs) return true;
  return limits.absoluteMs !== undefined && now - createdAt > limits.absoluteMs;
}

/** When a session used now expires. */
export function expiresAt(limits: SessionLimits, createdAt: number, now: number): number {
  const idleEnd = now + limits.idleMs;
  return limits.absoluteMs === undefined ? idleEnd : Math.min(idleEnd, createdAt + limits.absoluteMs);
}

/**
 * How long the user index of a user lives: as long as the longest session can, which is unbounded when
 * cookies may lift the absolute timeout (the index is then pruned as its sessions are found gone).
 */
export function userIndexLifetime(config: ResolvedSessionConfig): number | undefined {
  return config.absoluteTimeoutSet ? config.absoluteTimeoutMs : undefined;
}
