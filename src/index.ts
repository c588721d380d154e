import './express-request';
import { session } from './middleware';

export default session;
export { session, createSessionMiddleware } from './middleware';
export type {
  SessionHandler,
  SessionMiddlewareClass,
  NextFunction,
  UserSessions,
  SessionLoader,
} from './middleware';
export type { LoadedSession } from './request/load-session';
export type { UserSessionInfo } from './store/user-index';
export { SessionEvents } from './events';
export type { SessionEvent, SessionEventName } from './events';
export { Session, SessionValue } from './routing-controllers/decorators';
export type { SessionValueOptions } from './routing-controllers/decorators';
export { defineSessionConfig } from './config/options';
export type {
  SessionOptions,
  SessionStoreOptions,
  SessionDriver,
  SessionLogger,
  Duration,
} from './config/options';
export type { SessionCookieOptions } from './session/cookie';
export { SessionCookie } from './session/cookie';
export type { SessionData, SessionDataRecord, SessionOf } from './session/session';
export { createSessionStore } from './stores/create';
export { FileStore } from './stores/file/store';
export type { FileStoreOptions } from './stores/file/store';
export { MemoryStore } from './stores/memory';
export { RedisSessionStore } from './stores/redis/store';
export type { SessionStore, SessionChange, SessionOp, ApplyResult } from './store/contract';
export type { MemoryStoreOptions } from './stores/memory';
export type { ExpressSessionStore, ExpressSessionRecord } from './stores/express-session';
export type { SessionStoreApi } from './stores/session-store-api';
export {
  SessionError,
  SessionConfigError,
  SessionStoreUnavailableError,
  SessionValidationError,
  SessionTooLargeError,
  SessionNotMountedError,
  SessionLimitError,
} from './errors';
