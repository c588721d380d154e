import { EventEmitter } from 'node:events';
import type { SessionLogger } from './config/options';

/**
 * - created: a new session was stored for the first time
 * - regenerated: `regenerate()` put a new session in place of one (`previousId`)
 * - destroyed: `destroy()`, or `request.session` unset with `unset: 'destroy'`
 * - expired: a request came with a session past its idle or absolute timeout (it is then removed)
 * - revoked: removed through the user index (`revokeUserSessions`, or the cap on a user's sessions)
 * - rejected: a cookie whose signature fails, a stored record that is not a session, data off the schema
 */
export type SessionEventName = 'created' | 'regenerated' | 'destroyed' | 'expired' | 'revoked' | 'rejected';

export interface SessionEvent {
  /** The session's at-rest id (the hash its store key is), never the id the client holds; none for a forged cookie. */
  id?: string;
  /** The session this one replaced (`regenerated`). */
  previousId?: string;
  /** The user at `userKey`, when that option is set and the session has one. */
  user?: string;
  /** Why, in one word: 'new', 'regenerate', 'destroy', 'unset', 'idle', 'absolute', 'revoke', 'limit', 'signature', 'unreadable', 'schema'. */
  reason: string;
  time: Date;
}

/**
 * The sessions' lifecycle as events, for audit logs and metrics (`handler.events`). A listener that throws is
 * logged and never fails the request; with no listener an event costs one count.
 */
export class SessionEvents extends EventEmitter {
  constructor(private readonly logger: SessionLogger) {
    super();
  }

  /** Whether anyone listens to `name`: what an event would carry is only worked out then. */
  wants(name: SessionEventName): boolean {
    return this.listenerCount(name) > 0;
  }

  notify(name: SessionEventName, event: Omit<SessionEvent, 'time'>): void {
    if (!this.wants(name)) return;
    const full: SessionEvent = { ...event, time: new Date() };
    const report = (error: unknown) =>
      this.logger.error(`routing-controllers-session: a listener of the '${name}' event failed`, error);
    for (const listener of this.listeners(name)) {
      try {
        const returned = (listener as (event: SessionEvent) => unknown).call(this, full);
        // an async listener's rejection would otherwise be unhandled, and take the process down
        if (typeof (returned as Promise<unknown> | undefined)?.then === 'function') {
          (returned as Promise<unknown>).then(undefined, report);
        }
      } catch (error) {
        report(error);
      }
    }
  }
}
