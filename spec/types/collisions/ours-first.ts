/** The same app with the imports the other way round (see connect-redis-first.ts). */
import session from 'routing-controllers-session';
import type { Request } from 'express';
import { RedisStore } from 'connect-redis';

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
