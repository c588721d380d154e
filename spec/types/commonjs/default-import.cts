/** The other ways a CommonJS TypeScript app imports the package: the default import (esModuleInterop) and names. */
import session from 'routing-controllers-session';
import { MemoryStore, session as named } from 'routing-controllers-session';
import type { SessionHandler } from 'routing-controllers-session';

export const handlers: SessionHandler[] = [session({ store: new MemoryStore() }), named(), session.session()];
