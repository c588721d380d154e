// The ES module entry: the same CommonJS build (one copy of every class), with `session` as the default
// export, so `import session from 'routing-controllers-session'` works as it does for express-session.
import { session } from './index.js';

export * from './index.js';
export default session;
