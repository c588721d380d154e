// The CommonJS entry (package.json "main" and exports' "require"): like express-session's, the module is the
// middleware factory with the rest on it, so `const session = require('routing-controllers-session');
// app.use(session({ ... }))` works, and so do `require(...).session`, `require(...).MemoryStore`, and, in
// TypeScript, `import session = require(...)`, `import { session } from ...` and (esModuleInterop) the default
// import. Every class is the one of ./index (the ES module entry re-exports ./index too: one copy of each).
//
// TypeScript types a callable module only through `export =` of a function merged with a namespace, so every
// export of ./index is listed below; spec/commonjs-entry.spec.ts fails when one is missing.
/* eslint-disable @typescript-eslint/no-require-imports -- `import x = require()`: the form `export =` goes with */
import api = require('./index');
// Only their types are used: TypeScript emits no require() for these.
import middleware = require('./middleware');
import userIndex = require('./store/user-index');
import decorators = require('./routing-controllers/decorators');
import config = require('./config/options');
import cookie = require('./session/cookie');
import sessionObject = require('./session/session');
import changeTracker = require('./session/change-tracker');
import fileStore = require('./stores/file/store');
import contract = require('./store/contract');
import memoryStore = require('./stores/memory');
import expressSession = require('./stores/express-session');
import storeApi = require('./stores/session-store-api');
import events = require('./events');
import loadSession = require('./request/load-session');

/** Express (or bare Node) middleware: `app.use(session({ secret, driver: 'file' }))`. */
function session(options?: api.SessionOptions): api.SessionHandler {
  return api.session(options);
}

// eslint-disable-next-line @typescript-eslint/no-namespace
namespace session {
  // Values (and, for Session, SessionCookie and the classes, their types too).
  export import session = api.session;
  export import createSessionMiddleware = api.createSessionMiddleware;
  export import Session = api.Session;
  export import SessionValue = api.SessionValue;
  export import defineSessionConfig = api.defineSessionConfig;
  export import SessionCookie = api.SessionCookie;
  export import createSessionStore = api.createSessionStore;
  export import FileStore = api.FileStore;
  export import MemoryStore = api.MemoryStore;
  export import RedisSessionStore = api.RedisSessionStore;
  export import SessionError = api.SessionError;
  export import SessionConfigError = api.SessionConfigError;
  export import SessionStoreUnavailableError = api.SessionStoreUnavailableError;
  export import SessionValidationError = api.SessionValidationError;
  export import SessionTooLargeError = api.SessionTooLargeError;
  export import SessionNotMountedError = api.SessionNotMountedError;
  export import SessionLimitError = api.SessionLimitError;
  export import SessionEvents = api.SessionEvents;
  // Types, aliased from the modules that declare them (./index re-exports them with `export type`, which an
  // alias cannot name). SessionData stays an interface, so an app's `declare module` adds keys to it.
  export import SessionHandler = middleware.SessionHandler;
  export import SessionMiddlewareClass = middleware.SessionMiddlewareClass;
  export import NextFunction = middleware.NextFunction;
  export import UserSessions = middleware.UserSessions;
  export import SessionLoader = middleware.SessionLoader;
  export import LoadedSession = loadSession.LoadedSession;
  export import UserSessionInfo = userIndex.UserSessionInfo;
  export import SessionValueOptions = decorators.SessionValueOptions;
  export import SessionOptions = config.SessionOptions;
  export import SessionStoreOptions = config.SessionStoreOptions;
  export import SessionDriver = config.SessionDriver;
  export import SessionLogger = config.SessionLogger;
  export import Duration = config.Duration;
  export import SessionCookieOptions = cookie.SessionCookieOptions;
  export import SessionData = sessionObject.SessionData;
  export import SessionDataRecord = changeTracker.SessionDataRecord;
  export import SessionOf = sessionObject.SessionOf;
  export import FileStoreOptions = fileStore.FileStoreOptions;
  export import SessionStore = contract.SessionStore;
  export import SessionChange = contract.SessionChange;
  export import SessionOp = contract.SessionOp;
  export import ApplyResult = contract.ApplyResult;
  export import MemoryStoreOptions = memoryStore.MemoryStoreOptions;
  export import ExpressSessionStore = expressSession.ExpressSessionStore;
  export import ExpressSessionRecord = expressSession.ExpressSessionRecord;
  export import SessionEvent = events.SessionEvent;
  export import SessionEventName = events.SessionEventName;
  // A class that ./index exports as a type only.
  export type SessionStoreApi = storeApi.SessionStoreApi;
}

export = session;
