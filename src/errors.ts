/** Base class of every error this library throws; `status` is the HTTP status a request gets. */
export class SessionError extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = new.target.name;
    this.status = status;
  }

  /** The status routing-controllers' error handler reads. */
  get httpCode(): number {
    return this.status;
  }

  toJSON(): { name: string; message: string; status: number } {
    return { name: this.name, message: this.message, status: this.status };
  }
}

/** An option is missing, unknown or invalid. Thrown at start-up. */
export class SessionConfigError extends SessionError {
  constructor(message: string) {
    super(message, 500);
  }
}

/**
 * The store did not answer, or answered with an error. Never turned into "no session". The message is all
 * a client sees; which store and why (a path, a pid, an address, a raw session id) stay in `storeName` and
 * `cause`, for the logger.
 */
export class SessionStoreUnavailableError extends SessionError {
  readonly storeName: string;

  constructor(storeName: string, cause: unknown) {
    super('session store unavailable', 503);
    this.storeName = storeName;
    this.cause = cause;
  }
}

/** Session data does not match the app's schema, or cannot be stored as JSON. */
export class SessionValidationError extends SessionError {
  readonly key: string | undefined;

  constructor(message: string, key?: string, status = 500) {
    super(message, status);
    this.key = key;
  }
}

/** The serialized session is larger than `maxSize`. */
export class SessionTooLargeError extends SessionError {
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number) {
    super(
      `The session is ${size} bytes of JSON, over the maxSize limit of ${limit} bytes; nothing was saved. ` +
        'Keep large data in a database and only its id in the session, or raise maxSize.',
      413,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** A request reached a session decorator but no session middleware ran for it (none of that `name`, if named). */
export class SessionNotMountedError extends SessionError {
  constructor(name?: string) {
    super(
      name === undefined
        ? 'No session on this request: mount the session middleware before your routes, either ' +
            '`app.use(session(options))` or `middlewares: [createSessionMiddleware(options)]` in routing-controllers.'
        : `No session named '${name}' on this request: mount its middleware before your routes, either ` +
            `\`app.use(session({ name: '${name}', ... }))\` or \`createSessionMiddleware({ name: '${name}', ... })\` ` +
            "in routing-controllers' middlewares, and make sure the request is within its cookie's path.",
      500,
    );
  }
}

/** A sign-in beyond `maxSessionsPerUser` with `onSessionLimit: 'refuse'`: the user must sign out elsewhere first. */
export class SessionLimitError extends SessionError {
  constructor(readonly limit: number) {
    super(
      `this user has ${limit} sessions already, the most allowed (maxSessionsPerUser); sign out on another device first`,
      403,
    );
  }
}
