/** An ES module app: the default import is the same callable module as require() gives; names still import. */
import session, { MemoryStore, session as named } from 'routing-controllers-session';
import type { SessionHandler, SessionOptions } from 'routing-controllers-session';

const options: SessionOptions = { store: new MemoryStore() };
export const handlers: SessionHandler[] = [
  session(options),
  named(),
  session.session(),
  session({ store: new session.MemoryStore() }),
];
