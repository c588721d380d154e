import type { SessionCookie } from './session/cookie';
import type { SessionData as AppSessionData, SessionHelpers } from './session/session';

/** Each declared key may also be set to null, which removes it. */
type Removable<Data> = { [Key in keyof Data]?: Data[Key] | null };

/**
 * `request.session` is typed through express-session's own declarations (@types/express-session), which
 * connect-redis, connect-pg-simple and passport's users already have: declaring it a second time would
 * collide with them (TS2717) or depend on which import comes first. Instead this library adds to those
 * declarations: the app's SessionData keys, the helpers, and the Promise forms of the methods.
 */
declare module 'express-session' {
  /** Declared keys are typed; others read as `unknown`, as `request.session['key']` did before. */
  interface SessionData extends Removable<AppSessionData> {
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
