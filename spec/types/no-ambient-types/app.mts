/** The same app as an ES module (the package's `import` condition, index.d.mts); see app.ts. */
import type { Request } from 'express';
import session, { type Session } from 'routing-controllers-session';

export const handler = session();

export function count(request: Request): string {
  request.session.visits = (request.session.visits ?? 0) + 1;
  const current: Session = request.session;
  void current;
  return request.sessionID;
}
