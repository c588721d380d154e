/**
 * A new app as TypeScript 6's `tsc --init` makes it: `"types": []` (no ambient @types, not even node) and
 * `skipLibCheck: false`, compiled against the build output (`npm run lint:types`). It imports this package as
 * a user does and nothing of express-session: `request.session` and `request.sessionID` must exist all the same,
 * and the types of issue 18 hold here as in spec/types/public-types.ts.
 */
import 'reflect-metadata';
import type { Request } from 'express';
import { Get, JsonController } from 'routing-controllers';
import session, { Session, SessionValue, defineSessionConfig } from 'routing-controllers-session';

declare module 'routing-controllers-session' {
  interface SessionData {
    cart?: string[];
    visits?: number;
    notice?: string | null;
  }
}

export const handler = session(defineSessionConfig({ idleTimeout: '2h' }));
// @ts-expect-error a misspelt option does not compile
defineSessionConfig({ driver: 'memory', idleTimout: '2h' });

function takesCart(cart: string[] | undefined): number {
  return cart?.length ?? 0;
}

export function addToCart(request: Request): string {
  request.session.cart = [...(request.session.cart ?? []), 'apple'];
  takesCart(request.session.cart);
  // @ts-expect-error = null needs the key declared nullable
  request.session.cart = null;
  request.session.notice = null;
  const current: Session = request.session;
  const back: Request['session'] = current;
  void back;
  // a named session (session({ name: 'admin' })) is typed the same, and may be absent
  takesCart(request.sessions.admin?.cart);
  return request.sessionID;
}

@JsonController()
export class CartController {
  @Get('/cart')
  cart(@Session() current: Session, @SessionValue('cart', { default: [] }) cart: string[]) {
    return { count: takesCart(current.cart), cart };
  }

  @Get('/typo')
  // @ts-expect-error a typo of a declared key
  typo(@SessionValue('carts') cart: string[]) {
    return cart;
  }

  @Get('/wrong-type')
  // @ts-expect-error visits holds a number
  wrongType(@SessionValue('visits') visits: string[]) {
    return visits;
  }

  @Get('/wrong-default')
  // @ts-expect-error the default of a string[] key is a string[]
  wrongDefault(@SessionValue('cart', { default: 5 }) cart: string[]) {
    return cart;
  }

  @Get('/undeclared')
  undeclared(@SessionValue<{ theme: string }>('preferences') preferences?: { theme: string }) {
    return preferences;
  }
}
