/**
 * An app that has connect-redis (which brings @types/express-session) and this library, imported in this
 * order, compiled with skipLibCheck: false: it compiles, and request.session has the app's keys.
 */
import { RedisStore } from 'connect-redis';
import type { Request } from 'express';
import session from 'routing-controllers-session';

declare module 'routing-controllers-session' {
  interface SessionData {
    cart?: string[];
  }
}

export function addToCart(request: Request): number {
  request.session.cart = [...(request.session.cart ?? []), 'apple'];
  const count = request.session.cart.length;
  // @ts-expect-error cart holds strings
  request.session.cart = [1];
  request.session.cart = null;
  return count;
}

export const handler = session({ store: new RedisStore({ client: {} as never }) });
