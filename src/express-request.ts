// The declarations this file augments, and the Node types the package's declarations use (Buffer,
// node:http): referenced here so that an app compiled with `"types": []` (TypeScript 6's `tsc --init`) gets
// `request.session` and `request.sessionID` without listing them. `preserve` keeps them in the .d.ts.
/// <reference types="node" preserve="true" />
/// <reference types="express-session" preserve="true" />
import type { Session as ExpressSession, SessionData as ExpressSessionData } from 'express-session';
import type { SessionCookie } from './session/cookie';
import type { SessionData as AppSessionData, SessionHelpers } from './session/session';

/**
 * `request.session` is typed through express-session's own declarations (@types/express-session), which
 * connect-redis, connect-pg-simple and passport's users already have: declaring it a second time would
 * collide with them (TS2717) or depend on which import comes first. Instead this library adds to those
 * declarations: the app's SessionData keys, the helpers, and the Promise forms of the methods.
 */
declare module 'express-session' {
  /**
   * Declared keys are typed (a read is `T | undefined`; `= null`, which removes the key, compiles where the key
   * is declared nullable); others read as `unknown`, as `request.session['key']` did before.
   */
  interface SessionData extends Partial<AppSessionData> {
    [key: string]: unknown;
  }

  interface Session extends SessionHelpers {
    /** Resolves to the new session that is now on the request (this object keeps the old data). */
    regenerate(options?: { keepData?: boolean }, callback?: (error?: unknown) => void): Promise<this>;
    destroy(): Promise<void>;
    reload(): Promise<void>;
    save(): Promise<void>;
  }

  interface Cookie {
    /** Restarts the expiry from now. */
    resetMaxAge?: SessionCookie['resetMaxAge'];
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- where Express's Request is declared
  namespace Express {
    interface Request {
      /**
       * Every session on the request by its middleware's `name` (named sessions): `request.sessions.admin`
       * beside `request.sessions.sid`, which is `request.session`. Undefined for a name no middleware of
       * which ran for the request, or once that session is destroyed.
       */
      sessions: Record<string, (ExpressSession & Partial<ExpressSessionData>) | undefined>;
    }
  }
}
