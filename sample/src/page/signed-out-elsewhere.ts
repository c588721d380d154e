/** The sample's own cookie that says which session this browser was signed in with (its at-rest id). */
export const signedInHint = 'signed_in';

/**
 * Tells a device that "Sign out my other devices" signed out why it now sees the sign-in form.
 *
 * The page keeps the at-rest id of the signed-in session (the `id` of `listUserSessions()`, a hash, never the
 * cookie value) in the hint cookie above. Revoking marks the ids it signed out here, each only for as long as the
 * session could have lived on (the idle timeout): after that it would have expired anyway, so no revoked id is
 * kept for longer. A browser with a hint and no session, whose id is marked, was signed out from elsewhere.
 *
 * The marks live in this process's memory: an app with several processes keeps them in its shared store instead
 * (a Keyv on Redis, with this lifetime as the TTL).
 */
export class SignedOutElsewhere {
  private readonly until = new Map<string, number>();

  constructor(private readonly lifetimeMs: number) {}

  /** Marks sessions that were just revoked, and forgets the marks that have run out. */
  mark(sessionIds: readonly string[], now = Date.now()): void {
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
    for (const id of sessionIds) this.until.set(id, now + this.lifetimeMs);
  }

  /** Whether this session was revoked from another device (asked once: the mark is then dropped). */
  take(sessionId: string, now = Date.now()): boolean {
    const until = this.until.get(sessionId);
    this.until.delete(sessionId);
    return until !== undefined && until > now;
  }

  /** How many marks are held (for the spec: they do not pile up). */
  get size(): number {
    return this.until.size;
  }
}
