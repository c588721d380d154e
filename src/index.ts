import './express-request';
import { session } from './middleware';

export default session;
export { session, createSessionMiddleware } from './middleware';
export type { SessionHandler, SessionMiddlewareClass, NextFunction, UserSessions } from './middleware';
export type { UserSessionInfo } from './user-index';
export { Session, SessionValue } from './decorators';
export type { SessionValueOptions } from './decorators';
export { defineSessionConfig } from './config';
export type { SessionOptions, SessionStoreOptions, SessionDriver, SessionLogger, Duration } from './config';
export type { SessionCookieOptions } from './cookie';
export { SessionCookie } from './cookie';
export type { SessionData, SessionDataRecord, SessionOf } from './session';
export { createSessionStore } from './stores/create-store';
export { FileStore } from './stores/file-store';
export type { FileStoreOptions } from './stores/file-store';
export { MemoryStore } from './stores/memory-store';
export { RedisStore } from './stores/redis';
export type { MemoryStoreOptions } from './stores/memory-store';
export type { ExpressSessionStore, ExpressSessionRecord } from './stores/connect-store';
export type { ExpressStoreApi } from './stores/express-store-api';
export {
  SessionError,
  SessionConfigError,
  SessionStoreUnavailableError,
  SessionValidationError,
  SessionTooLargeError,
  SessionNotMountedError,
} from './errors';
