/**
 * An app's use of request.session, typed by its own SessionData; imported after connect-redis and this
 * library, in the order each entry file of this folder gives.
 */
import type { Request } from 'express';

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
  // @ts-expect-error = null (which removes the key) needs the key declared nullable
  request.session.cart = null;
  delete request.session.cart;
  return count;
}
