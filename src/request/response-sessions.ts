import type { EndWork, SessionAtResponse } from './response-hooks';

/**
 * Two or more sessions on one response (named sessions), asked by the response hooks as one: each session's store
 * work runs before the headers leave, and each sets its own cookie. A failure that loses data fails the response
 * as it would with one session; one that loses nothing (a touch) is reported by its own session, whose cookie then
 * goes as for an unsaved session, while the others go on as if it had not happened.
 */
class SessionsAtResponse implements SessionAtResponse {
  /** Sessions whose store work failed without losing anything. */
  private readonly unsaved = new Set<SessionAtResponse>();

  constructor(readonly sessions: SessionAtResponse[]) {}

  applyCookie(stored: boolean): readonly string[] | undefined {
    let headers: string[] | undefined;
    for (const session of this.sessions) {
      const header = session.applyCookie(stored && !this.unsaved.has(session) && session.isStored());
      if (header !== undefined) (headers ??= []).push(...[header].flat());
    }
    return headers;
  }

  /** Each session's own answer is asked in applyCookie. */
  isStored(): boolean {
    return true;
  }

  workAtEnd(): EndWork | undefined {
    let parts: WorkPart[] | undefined;
    for (const session of this.sessions) {
      const work = session.workAtEnd();
      if (work) (parts ??= []).push({ session, work, done: false });
    }
    return parts && new CombinedWork(this, parts);
  }

  fail(error: unknown): void {
    this.sessions[0]!.fail(error);
  }

  reportAfterResponse(error: unknown): void {
    this.sessions[0]!.reportAfterResponse(error);
  }

  /** A session's store work failed and lost nothing: it reports that itself, and the response goes on. */
  lostNothing(session: SessionAtResponse, error: unknown): void {
    this.unsaved.add(session);
    session.reportAfterResponse(error);
  }
}

interface WorkPart {
  session: SessionAtResponse;
  work: EndWork;
  done: boolean;
}

/**
 * The store work of every session that has some, run side by side; it fails only when data is at risk. Its
 * methods are arrow functions: the response hooks take an EndWork's functions apart from it.
 */
class CombinedWork implements EndWork {
  readonly dataAtRisk: boolean;
  /** A failure that loses data, met by commitNow: commit() does the rest of the work, then fails with it. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly owner: SessionsAtResponse,
    private readonly parts: WorkPart[],
  ) {
    this.dataAtRisk = parts.some((part) => part.work.dataAtRisk);
  }

  commitNow = (): boolean => {
    let allDone = true;
    for (const part of this.parts) {
      try {
        part.done = part.work.commitNow();
      } catch (error) {
        part.done = true;
        this.failed(part, error);
      }
      allDone &&= part.done;
    }
    return allDone && this.failure === undefined;
  };

  commit = async (): Promise<void> => {
    const pending = this.parts.filter((part) => !part.done);
    const results = await Promise.allSettled(pending.map((part) => part.work.commit()));
    results.forEach((result, index) => {
      if (result.status === 'rejected') this.failed(pending[index]!, result.reason);
    });
    if (this.failure) throw this.failure.error;
  };

  private failed(part: WorkPart, error: unknown): void {
    const reported = error ?? new Error('the session could not be saved');
    if (!part.work.dataAtRisk) this.owner.lostNothing(part.session, reported);
    else this.failure ??= { error: reported };
  }
}

/** `first` and `added` asked as one; `first` may already be several. */
export function sessionsAtResponse(first: SessionAtResponse, added: SessionAtResponse): SessionAtResponse {
  if (first instanceof SessionsAtResponse) {
    first.sessions.push(added);
    return first;
  }
  return new SessionsAtResponse([first, added]);
}
