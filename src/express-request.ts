import type { ExpressStoreApi } from './stores/express-store-api';
import type { SessionData, SessionOf } from './session';

declare global {
  // Express's own extension point for request properties, as express-session uses it.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      session: SessionOf<SessionData>;
      sessionID: string;
      sessionStore: ExpressStoreApi;
    }
  }
}
