import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Keyv } from 'keyv';
import type { SessionCookieOptions } from '../session/cookie';
import { SessionCookie } from '../session/cookie';
import { parseDuration } from './duration';
import { SessionConfigError } from '../errors';
import type { EncryptionKey } from '../store/encrypted';
import type { SessionStore } from '../store/contract';
import type { ExpressSessionStore } from '../stores/express-session';

/** A number of seconds, or a string such as '90s', '30m', '2h', '7d'. */
export type Duration = number | string;

/** The node-redis client methods the Redis driver calls (`createClient()` of the `redis` package). */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  // node-redis: sendCommand(args) on a client, sendCommand(firstKey, isReadonly, args) on a cluster
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  sendCommand(...args: any[]): Promise<unknown>;
  on(event: string, listener: (error?: unknown) => void): unknown;
}

/** The `pg.Pool` methods the PostgreSQL driver calls (a pool the app made and owns). */
export interface PostgresPoolLike {
  // pg's query and connect are overloaded; the driver calls query(config) and connect()
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(...args: any[]): Promise<unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  connect(...args: any[]): Promise<unknown>;
}

/** A Keyv storage adapter of either Keyv version (@keyv/postgres, @keyv/sqlite, ...), by its shape. */
export interface KeyvStorageAdapterLike {
  get(key: string): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  set(key: string, value: any, expiresOrTtl?: number): unknown;
  delete(key: string): unknown;
}

/** A mysql2 pool, from `createPool()` of 'mysql2' or of 'mysql2/promise', by its shape. */
export interface MysqlPoolLike {
  getConnection(...args: never[]): unknown;
  end(...args: never[]): unknown;
}

export type SessionDriver = 'file' | 'memory' | 'redis' | 'postgres' | 'mysql';

export type SessionSecret = string | Buffer;

export interface SessionLogger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface SessionStoreOptions {
  /** Which built-in store to use when `store` is not given. Default `'file'`. */
  driver?: SessionDriver;
  /** A store of this library, a Keyv instance (Keyv 5 or 6), a Keyv storage adapter, or an express-session store (connect-redis, ...). */
  store?: SessionStore | Keyv | KeyvStorageAdapterLike | ExpressSessionStore;
  file?: { directory?: string; sweepInterval?: Duration };
  memory?: { max?: number; sweepInterval?: Duration };
  /**
   * The Redis driver: `url`, `cluster` (node URLs of a Redis Cluster), or `client`, a node-redis client or
   * cluster client the app made and owns (it connects and closes it), and the key `prefix`.
   */
  redis?: {
    url?: string;
    /** The URLs of one or more nodes of a Redis Cluster: the driver then makes a cluster client. */
    cluster?: string[];
    client?: RedisClientLike;
    prefix?: string;
    connectTimeout?: Duration;
    commandTimeout?: Duration;
  };
  /**
   * The PostgreSQL driver (needs the `pg` package): `url` (the driver makes, owns and closes a pool) or `pool`
   * (a `pg.Pool` the app made and owns), the `table` (default `'sessions'`) and its `schema` (default: the
   * search path), `createTable` (default true; false when migrations own the table), `sweepInterval` for
   * deleting expired rows (default `'10m'`).
   */
  postgres?: {
    url?: string;
    pool?: PostgresPoolLike;
    table?: string;
    schema?: string;
    createTable?: boolean;
    sweepInterval?: Duration;
    /** How long getting a connection may take. Default `'2s'`. */
    connectTimeout?: Duration;
    /** How long one query may take before its connection is dropped. Default `'5s'`. */
    queryTimeout?: Duration;
  };
  /**
   * The MySQL/MariaDB driver: `url` (the driver makes and closes a mysql2 pool) or `pool`, a mysql2 pool the app
   * made and owns (never closed here); the `table` ('sessions', or 'database.sessions'), created on first use
   * unless `createTable: false`; how often expired rows are swept.
   */
  mysql?: {
    url?: string;
    pool?: MysqlPoolLike;
    table?: string;
    createTable?: boolean;
    sweepInterval?: Duration;
    connectTimeout?: Duration;
    queryTimeout?: Duration;
  };
  /** Where store warnings and errors go. Default `console`. */
  logger?: SessionLogger;
  /** How long one store operation, or the wait for a session's lock, may take before the request fails with 503. Default `'5s'`. */
  storeTimeout?: Duration;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type ClassType = Function;

export interface SessionOptions extends SessionStoreOptions {
  /** Cookie name. Default `'sid'`. */
  name?: string;
  /** Signs the cookie (strings or Buffers). An array rotates secrets: sign with the first, accept any. */
  secret?: SessionSecret | SessionSecret[];
  /** express-session's old name for `name`. */
  key?: string;
  /** Cookie attributes, or (as in express-session) a function of the request that returns them. */
  cookie?: SessionCookieOptions | ((request: IncomingMessage) => SessionCookieOptions);
  /**
   * A request header that carries the session id, signed as the cookie is, for clients without cookies
   * (mobile apps, API clients): read from requests, and sent back when a session is created or regenerated.
   * `cookie: false` sends no cookie at all.
   */
  header?: string | { name: string; cookie?: boolean };
  /** Send the cookie on every response, restarting its maxAge. Default false. */
  rolling?: boolean;
  /** Write the session on every request even when unchanged. Default false. */
  resave?: boolean;
  /** Store (and send a cookie for) a new session that holds nothing. Default false. */
  saveUninitialized?: boolean;
  /** Makes a new session id; the default gives 256 random bits in base64url. */
  genid?: (request: IncomingMessage) => string;
  /** What happens when `request.session` is deleted or set to null: keep the stored session, or destroy it. */
  unset?: 'keep' | 'destroy';
  /** Trust X-Forwarded-Proto for Secure cookies. Default: Express's `trust proxy` setting. */
  proxy?: boolean;
  /**
   * A session not used for this long expires. Default `'2h'`; but a session whose cookie has a maxAge (from
   * `cookie.maxAge`, or set on `request.session.cookie`) lives as long as its cookie, as with express-session.
   */
  idleTimeout?: Duration;
  /**
   * A session expires this long after it was created, however active. Default `'7d'` (none for a session whose
   * cookie has a maxAge); `false` for none.
   */
  absoluteTimeout?: Duration | false;
  /** An unchanged session is rewritten (to extend its idle timeout) at most this often. Default a tenth of idleTimeout, at most 1 minute. */
  touchInterval?: Duration;
  /** The most bytes of JSON one session may hold. Default 64 KB. */
  maxSize?: number;
  /** A class-validator class describing the session data. */
  schema?: ClassType;
  /** What to do with stored data that fails the schema when loaded. Default `'discard'`. */
  onInvalidData?: 'discard' | 'error';
  /** When the store fails: answer 503 (`'fail'`, default), or serve the request with an unsaved empty session. */
  onStoreError?: 'fail' | 'anonymous';
  /**
   * A dot path into the session data that holds the user id (`'userId'`, `'passport.user'`): sessions are
   * then indexed by user, for `listUserSessions()` and `revokeUserSessions()`.
   */
  userKey?: string;
  /**
   * Seal every stored session's data with AES-256-GCM: `keys` lists 32-byte keys (or passphrases of 32
   * characters or more), the current one first; older ones still open what they sealed.
   */
  encryption?: { keys: EncryptionKey[] };
  /** With `userKey`: the most sessions one user may have at once (default 100). */
  maxSessionsPerUser?: number;
  /** A sign-in beyond `maxSessionsPerUser`: sign out the user's least recently used sessions (default), or refuse it (403). */
  onSessionLimit?: 'revoke-oldest' | 'refuse';
  /**
   * For this long after `regenerate()`, a request still carrying the old id (sent in parallel with a sign-in)
   * is served the new session instead of an empty one. Off by default; at most 5 minutes. Within the window
   * whoever holds the old id is served the new session: see "Grace window after regenerate" in the README.
   */
  regenerateGrace?: Duration | false;
}

export interface ResolvedSessionConfig {
  name: string;
  secrets: SessionSecret[];
  cookie: SessionCookieOptions;
  /** Per-request cookie attributes (the `cookie` option as a function), over `cookie`. */
  cookieFor: ((request: IncomingMessage) => SessionCookieOptions) | undefined;
  /** The session header, lower-cased, and whether cookies are sent as well. */
  header: { name: string; cookie: boolean } | undefined;
  rolling: boolean;
  resave: boolean;
  saveUninitialized: boolean;
  genid: ((request: IncomingMessage) => string) | undefined;
  unset: 'keep' | 'destroy';
  proxy: boolean | undefined;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number | undefined;
  /** Whether idleTimeout / absoluteTimeout were given; where not, a session with a cookie maxAge lives by its cookie. */
  idleTimeoutSet: boolean;
  absoluteTimeoutSet: boolean;
  touchIntervalMs: number;
  maxSize: number;
  schema: ClassType | undefined;
  onInvalidData: 'discard' | 'error';
  onStoreError: 'fail' | 'anonymous';
  storeTimeoutMs: number;
  userKey: string | undefined;
  maxSessionsPerUser: number;
  onSessionLimit: 'revoke-oldest' | 'refuse';
  /** Option regenerateGrace in milliseconds; undefined: off. */
  regenerateGraceMs: number | undefined;
  logger: SessionLogger;
}

const drivers: readonly SessionDriver[] = ['file', 'memory', 'redis', 'postgres', 'mysql'];
const shortestProductionSecret = 32;

/**
 * Types a configuration object (for `src/config/session.ts`); returns it unchanged. Not generic, so that an
 * unknown option (`idleTimout`) does not compile.
 */
export function defineSessionConfig(options: SessionOptions): SessionOptions {
  return options;
}

/** Every option, to name an unknown one at start-up (the type makes this list complete). */
const knownOptions: Record<keyof SessionOptions, true> = {
  driver: true,
  store: true,
  file: true,
  memory: true,
  redis: true,
  postgres: true,
  mysql: true,
  logger: true,
  storeTimeout: true,
  name: true,
  header: true,
  secret: true,
  key: true,
  cookie: true,
  rolling: true,
  resave: true,
  saveUninitialized: true,
  genid: true,
  unset: true,
  proxy: true,
  idleTimeout: true,
  absoluteTimeout: true,
  touchInterval: true,
  maxSize: true,
  schema: true,
  onInvalidData: true,
  onStoreError: true,
  userKey: true,
  maxSessionsPerUser: true,
  encryption: true,
  onSessionLimit: true,
  regenerateGrace: true,
};

/** The edit distance between two option names, ignoring case. */
function distance(from: string, to: string): number {
  const a = from.toLowerCase();
  const b = to.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Warns once for each option this library does not know (a typo, or an option of another library). */
function warnUnknownOptions(options: object, logger: SessionLogger): void {
  const known = Object.keys(knownOptions);
  for (const option of Object.keys(options)) {
    if (Object.hasOwn(knownOptions, option)) continue;
    const nearest = known.reduce((best, name) =>
      distance(option, name) < distance(option, best) ? name : best,
    );
    const close = distance(option, nearest) <= Math.max(2, Math.floor(option.length / 3));
    logger.warn(
      `routing-controllers-session: unknown session option ${option}${close ? `; did you mean ${nearest}?` : '.'} It is ignored.`,
    );
  }
}

/** A duration option in milliseconds; throws SessionConfigError naming the option when it is unreadable. */
export function durationOption(name: string, value: Duration | undefined, fallback: Duration): number {
  const milliseconds = parseDuration(value ?? fallback);
  if (milliseconds === undefined) {
    throw new SessionConfigError(
      `Option ${name} is ${JSON.stringify(value)}; write a positive number of seconds or a string such as '90s', '30m', '2h' or '7d'.`,
    );
  }
  return milliseconds;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new SessionConfigError(
      `Option ${name} is ${JSON.stringify(value)}; it must be one of ${allowed.map((item) => `'${item}'`).join(', ')}.`,
    );
  }
  return value;
}

export function checkDriver(driver: unknown): SessionDriver {
  return oneOf('driver', driver as SessionDriver | undefined, drivers, 'file');
}

function resolveSecrets(
  secret: SessionSecret | SessionSecret[] | undefined,
  logger: SessionLogger,
): SessionSecret[] {
  if (Array.isArray(secret) && secret.length === 0) {
    throw new SessionConfigError(
      'The secret option array is empty; it must contain one or more strings or Buffers (the first signs).',
    );
  }
  const given: unknown[] = Array.isArray(secret) ? secret : [secret];
  const secrets = given.filter(
    (item): item is SessionSecret =>
      item !== undefined && item !== '' && !(Buffer.isBuffer(item) && item.length === 0),
  );
  if (secrets.some((item) => typeof item !== 'string' && !Buffer.isBuffer(item))) {
    throw new SessionConfigError('Option secret must be a string, a Buffer, or an array of them.');
  }
  const production = process.env.NODE_ENV === 'production';
  if (secrets.length === 0) {
    if (production) {
      throw new SessionConfigError(
        'Option secret is missing. In production write a random string of at least 32 characters, e.g. ' +
          "secret: process.env.SESSION_SECRET (make one with `node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\"`).",
      );
    }
    logger.warn(
      'routing-controllers-session WARNING: no secret set; using a random one, so sessions will not survive a restart. Set option secret (e.g. SESSION_SECRET).',
    );
    return [randomBytes(32).toString('hex')];
  }
  const weak = secrets.filter((item) => item.length < shortestProductionSecret);
  if (weak.length > 0) {
    if (production) {
      throw new SessionConfigError(
        `Option secret has a value of fewer than ${shortestProductionSecret} characters; in production use a random string of at least ${shortestProductionSecret}.`,
      );
    }
    logger.warn(
      `routing-controllers-session: the session secret is shorter than ${shortestProductionSecret} characters; that is refused in production.`,
    );
  }
  // copied: verified cookies are remembered per list of secrets, which must not change behind that memory
  return secrets.map((item) => (Buffer.isBuffer(item) ? Buffer.from(item) : item));
}

function headerOf(header: SessionOptions['header']): ResolvedSessionConfig['header'] {
  if (header === undefined) return undefined;
  const { name, cookie = true } = typeof header === 'string' ? { name: header } : (header ?? {});
  if (
    typeof name !== 'string' ||
    !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) ||
    typeof cookie !== 'boolean'
  ) {
    throw new SessionConfigError(
      `Option header is ${JSON.stringify(header)}; write a header name such as 'X-Session-Id', or ` +
        "{ name: 'X-Session-Id', cookie: false } to send no cookie.",
    );
  }
  return { name: name.toLowerCase(), cookie };
}

function sessionLimitOf(
  options: SessionOptions,
): Pick<ResolvedSessionConfig, 'maxSessionsPerUser' | 'onSessionLimit'> {
  const limited = options.maxSessionsPerUser !== undefined || options.onSessionLimit !== undefined;
  if (limited && options.userKey === undefined) {
    throw new SessionConfigError(
      "Options maxSessionsPerUser and onSessionLimit count a user's sessions: set userKey too (e.g. 'userId' or 'passport.user').",
    );
  }
  return {
    maxSessionsPerUser: positiveInteger('maxSessionsPerUser', options.maxSessionsPerUser, 100),
    onSessionLimit: oneOf(
      'onSessionLimit',
      options.onSessionLimit,
      ['revoke-oldest', 'refuse'],
      'revoke-oldest',
    ),
  };
}

function checkUserKey(userKey: unknown): string | undefined {
  if (userKey === undefined) return undefined;
  if (typeof userKey !== 'string' || !/^[^.]+(\.[^.]+)*$/.test(userKey)) {
    throw new SessionConfigError(
      `Option userKey is ${JSON.stringify(userKey)}; write a dot path to the user id in the session, e.g. 'userId' or 'passport.user'.`,
    );
  }
  return userKey;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new SessionConfigError(
      `Option ${name} is ${JSON.stringify(value)}; write a positive whole number.`,
    );
  }
  return value;
}

/** The longest regenerateGrace: the window is one where an id planted before a sign-in is served the signed-in session. */
const longestRegenerateGraceMs = 5 * 60_000;

function regenerateGraceOf(value: Duration | false | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  const milliseconds = durationOption('regenerateGrace', value, 0);
  if (milliseconds > longestRegenerateGraceMs) {
    throw new SessionConfigError(
      `Option regenerateGrace is ${JSON.stringify(value)}; write at most '5m', better a few seconds such as '10s': ` +
        'within the window, whoever holds the old session id (an attacker may have planted it before the sign-in) ' +
        'is served the signed-in session.',
    );
  }
  return milliseconds;
}

const defaultCookie: SessionCookieOptions = { httpOnly: true, secure: 'auto', sameSite: 'lax', path: '/' };

const cookieAttributeHints: Record<string, string> = {
  domain: "write a host name without scheme or port, such as 'example.com', or leave it out",
  path: "write a path starting with '/' and without ';' or spaces",
  sameSite: "write 'lax', 'strict', 'none', 'auto', true or false",
  priority: "write 'low', 'medium' or 'high'",
  expires: 'write a valid Date, or use maxAge',
  partitioned: 'write true or false',
};

const describeValue = (value: unknown) =>
  typeof value === 'number' || value instanceof Date ? String(value) : JSON.stringify(value);

/**
 * The cookie attributes, checked once by serializing a cookie with them, so that a value no browser
 * accepts is a start-up error rather than a failure at the first login.
 */
function checkCookie(name: string, cookie: SessionCookieOptions): SessionCookieOptions {
  const { maxAge } = cookie;
  if (maxAge !== undefined && maxAge !== null && !(Number.isFinite(maxAge) && maxAge > 0)) {
    throw new SessionConfigError(
      `Option cookie.maxAge is ${describeValue(maxAge)}; write a positive number of milliseconds, or null for a browser-session cookie.`,
    );
  }
  if (cookie.expires !== undefined && cookie.expires !== null && !isValidDate(cookie.expires)) {
    throw new SessionConfigError(
      `Option cookie.expires is ${describeValue(cookie.expires)}; ${cookieAttributeHints.expires}.`,
    );
  }
  try {
    new SessionCookie(cookie).serialize(name, 'value', true);
  } catch (error) {
    const attribute = /option (\w+)/i.exec((error as Error).message)?.[1] ?? '';
    const hint = cookieAttributeHints[attribute] ?? 'see the cookie options in the README';
    const value = (cookie as Record<string, unknown>)[attribute];
    throw new SessionConfigError(
      `Option cookie.${attribute} is ${describeValue(value)}, which no browser accepts; ${hint}.`,
    );
  }
  if (name.startsWith('__Host-')) {
    const broken = [
      cookie.secure === false ? 'secure: false (it must be Secure)' : undefined,
      cookie.path !== '/' ? `path ${JSON.stringify(cookie.path)} (it must be '/')` : undefined,
      cookie.domain !== undefined ? `domain ${JSON.stringify(cookie.domain)} (it must have none)` : undefined,
    ].filter((problem) => problem !== undefined);
    if (broken.length > 0) {
      throw new SessionConfigError(
        `A __Host- cookie name is refused by browsers with ${broken.join(', ')}; drop those cookie options.`,
      );
    }
  }
  return cookie;
}

const isValidDate = (value: unknown) => value instanceof Date && !Number.isNaN(value.valueOf());

/** Validates the options once, at start-up, and fills in the defaults. */
export function resolveConfig(options: SessionOptions = {}): ResolvedSessionConfig {
  if (typeof options !== 'object' || options === null) {
    throw new SessionConfigError('session(options) takes an options object.');
  }
  const logger = options.logger ?? console;
  warnUnknownOptions(options, logger);
  checkDriver(options.driver);
  if (options.genid !== undefined && typeof options.genid !== 'function') {
    throw new SessionConfigError('Option genid must be a function (request) => string.');
  }
  const name = options.name ?? options.key ?? 'sid';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new SessionConfigError(`Option name ${JSON.stringify(name)} is not a valid cookie name.`);
  }
  const idleTimeoutMs = durationOption('idleTimeout', options.idleTimeout, '2h');
  const absoluteTimeoutMs =
    options.absoluteTimeout === false
      ? undefined
      : durationOption('absoluteTimeout', options.absoluteTimeout, '7d');
  const touchIntervalMs = durationOption(
    'touchInterval',
    options.touchInterval,
    Math.min(idleTimeoutMs / 10, 60_000) / 1000,
  );
  const cookieFor = typeof options.cookie === 'function' ? options.cookie : undefined;
  const cookie = checkCookie(name, {
    ...defaultCookie,
    ...(cookieFor ? {} : (options.cookie as SessionCookieOptions | undefined)),
  });
  return {
    name,
    secrets: resolveSecrets(options.secret, logger),
    cookie,
    cookieFor,
    header: headerOf(options.header),
    rolling: options.rolling === true,
    resave: options.resave === true,
    saveUninitialized: options.saveUninitialized === true,
    genid: options.genid,
    unset: oneOf('unset', options.unset, ['keep', 'destroy'], 'keep'),
    proxy: options.proxy,
    idleTimeoutMs,
    absoluteTimeoutMs,
    idleTimeoutSet: options.idleTimeout !== undefined,
    absoluteTimeoutSet: options.absoluteTimeout !== undefined,
    touchIntervalMs,
    maxSize: positiveInteger('maxSize', options.maxSize, 64 * 1024),
    schema: options.schema,
    onInvalidData: oneOf('onInvalidData', options.onInvalidData, ['discard', 'error'], 'discard'),
    onStoreError: oneOf('onStoreError', options.onStoreError, ['fail', 'anonymous'], 'fail'),
    storeTimeoutMs: durationOption('storeTimeout', options.storeTimeout, '5s'),
    userKey: checkUserKey(options.userKey),
    ...sessionLimitOf(options),
    regenerateGraceMs: regenerateGraceOf(options.regenerateGrace),
    logger,
  };
}
