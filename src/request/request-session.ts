import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionCookieOptions } from '../session/cookie';
import type { SessionOf, SessionState } from '../session/session';
import { createSession } from '../session/session';

export interface SessionRequest extends IncomingMessage {
  session?: SessionOf<object> | null;
  sessionID?: string;
  sessionStore?: unknown;
}

/**
 * Where a request's session stands:
 * - new: no stored session came with the request (no cookie, or nothing stored under it)
 * - loaded: the session stored under the client's cookie
 * - regenerated: a new id replaced the session's (`regenerate()`)
 * - destroyed: removed (`destroy()`, or unset with `unset: 'destroy'`)
 * - anonymous: the store failed and `onStoreError` is 'anonymous': never saved
 */
export type SessionPhase = 'new' | 'loaded' | 'regenerated' | 'destroyed' | 'anonymous';

/** Everything one request knows about its session. */
export class RequestSession {
  state: SessionState;
  session: SessionOf<object>;
  /** What the app assigned to `request.sessionID`; anything but a string there means: neither save nor send. */
  replacedId?: { value: unknown };
  /** Saved during this request (`session.save()`): a later save writes only later changes. */
  savedAlready = false;
  /** Some save of this request wrote changed data (a persistent cookie is then sent again). */
  wroteChanges = false;
  cookieApplied = false;

  constructor(
    readonly request: SessionRequest,
    readonly response: ServerResponse,
    /** The cookie attributes of this request (the `cookie` option, or what its function returned). */
    readonly cookieOptions: SessionCookieOptions,
    /** The id the client sent, if its cookie was valid. */
    readonly incomingId: string | undefined,
    /** The cookie was signed with a retired secret and must be re-signed. */
    readonly resign: boolean,
    public phase: SessionPhase,
    /** The middleware's `next`, for errors that come after the response (express-session passes those too). */
    readonly next: ((error?: unknown) => void) | undefined,
    stateOf: (owner: RequestSession) => SessionState,
  ) {
    this.state = stateOf(this);
    this.session = createSession(this.state);
  }

  /** Puts another session state (regenerated) in place; the object the app held before is no longer saved. */
  replace(state: SessionState): SessionOf<object> {
    this.state = state;
    this.session = createSession(state);
    return this.session;
  }
}
