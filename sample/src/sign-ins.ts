import type { Request } from 'express';
import type { SessionEvent } from 'routing-controllers-session';

/**
 * Each user's last two sign-ins, from the session middleware's 'regenerated' event (passport regenerates the
 * session at every sign-in, and the event waits until the user is in it), so the page can say when you signed
 * in before this time. An app with several processes writes these to its database instead.
 */
export class SignIns {
  private readonly latestTwo = new Map<string, [Date] | [Date, Date]>();

  record({ user, time }: SessionEvent): void {
    if (user === undefined) return;
    const latest = this.latestTwo.get(user)?.[0];
    this.latestTwo.set(user, latest ? [time, latest] : [time]);
  }

  /** When this user signed in before their latest sign-in; undefined for a first sign-in. */
  previousOf(user: string | number): Date | undefined {
    return this.latestTwo.get(String(user))?.[1];
  }
}

/** When the signed-in user of this request signed in before this time (undefined: a first sign-in, or no user). */
export function previousSignInOf(request: Request): Date | undefined {
  const user = request.user as { id: number } | undefined;
  return user && (request.app.locals.signIns as SignIns).previousOf(user.id);
}
