// The ES module entry: the same CommonJS build (one copy of every class), with `session` as the default
// export, so `import session from 'routing-controllers-session'` works as it does for express-session: the
// default is the CommonJS entry, the middleware factory with the rest of the API on it (`session.MemoryStore`).
import session from './commonjs.js';

export * from './index.js';
export default session;
