import type { NextFunction, Request, Response } from 'express';
import flash from 'connect-flash';
import { parse as parseCookies } from 'cookie';
import passport from 'passport';
import { Controller, Get, Post, Req, Res, UseBefore } from 'routing-controllers';
import type { UserSessions } from 'routing-controllers-session';
import type { PageMessage } from '../page/render';
import { renderPage } from '../page/render';
import type { SignedOutElsewhere } from '../page/signed-out-elsewhere';
import { signedInHint } from '../page/signed-out-elsewhere';
import { previousSignInOf } from '../sign-ins';
import { demoAccount } from '../users';

declare module 'routing-controllers-session' {
  interface SessionData {
    cart?: string[];
  }
}

/** The session middleware class of this app, with listUserSessions and revokeUserSessions. */
function userSessionsOf(request: Request): UserSessions {
  return request.app.locals.userSessions as UserSessions;
}

function signedOutElsewhereOf(request: Request): SignedOutElsewhere {
  return request.app.locals.signedOutElsewhere as SignedOutElsewhere;
}

function signIn(request: Request, response: Response, next: NextFunction): void {
  passport.authenticate('local', (error: unknown, user: Express.User | false) => {
    if (error) return next(error);
    if (!user) {
      request.flash('error', 'Wrong username or password.');
      return response.redirect(303, '/');
    }
    request.logIn(user, (loginError) => {
      if (loginError) return next(loginError);
      request.flash('info', `Welcome back, ${(user as { name: string }).name}!`);
      response.redirect(303, '/');
    });
  })(request, response, next);
}

/**
 * The sample's HTML page at `/`: sign in with passport-local, a cart kept in the session, flash messages,
 * this user's sessions and "sign out my other devices", and sign out. Forms post and redirect back.
 */
@Controller()
@UseBefore(passport.session(), flash())
export class PageController {
  @Get('/')
  async page(@Req() request: Request, @Res() response: Response) {
    const user = request.user as { id: number; name: string } | undefined;
    const hint = parseCookies(request.headers.cookie ?? '')[signedInHint];
    const messages: PageMessage[] = [
      ...request.flash('error').map((text) => ({ kind: 'error' as const, text })),
      ...request.flash('info').map((text) => ({ kind: 'info' as const, text })),
    ];
    let sessions: Awaited<ReturnType<UserSessions['listUserSessions']>> = [];
    if (user) {
      // `current` marks this request's own session in the list (`current: true`).
      sessions = await userSessionsOf(request).listUserSessions(user.id, { current: request.sessionID });
      const here = sessions.find((entry) => entry.current)?.id;
      if (here && here !== hint) {
        response.cookie(signedInHint, here, { httpOnly: true, sameSite: 'lax', secure: request.secure });
      }
    } else if (hint) {
      if (signedOutElsewhereOf(request).take(hint)) {
        messages.push({ kind: 'warning', text: 'You were signed out from another device.' });
      }
      response.clearCookie(signedInHint, { httpOnly: true, sameSite: 'lax', secure: request.secure });
    }
    response.type('html').send(
      renderPage({
        user,
        previousSignIn: previousSignInOf(request)?.valueOf(),
        messages,
        cart: request.session.cart ?? [],
        sessions,
        demo: demoAccount,
        now: Date.now(),
      }),
    );
    return response;
  }

  @Post('/page/login')
  @UseBefore(signIn)
  signedIn() {
    return undefined;
  }

  @Post('/cart')
  addToCart(@Req() request: Request, @Res() response: Response) {
    const item = String(request.body?.item ?? '').trim();
    if (request.user && item) request.session.cart = [...(request.session.cart ?? []), item];
    response.redirect(303, '/');
    return response;
  }

  @Post('/page/sign-out-others')
  async signOutOthers(@Req() request: Request, @Res() response: Response) {
    const user = request.user as { id: number } | undefined;
    if (user) {
      const sessions = userSessionsOf(request);
      const others = (await sessions.listUserSessions(user.id, { current: request.sessionID }))
        .filter((entry) => !entry.current)
        .map((entry) => entry.id);
      const revoked = await sessions.revokeUserSessions(user.id, { except: request.sessionID });
      signedOutElsewhereOf(request).mark(others);
      request.flash('info', `Signed out ${revoked} other ${revoked === 1 ? 'device' : 'devices'}.`);
    }
    response.redirect(303, '/');
    return response;
  }

  @Post('/page/logout')
  signOut(@Req() request: Request, @Res() response: Response) {
    return new Promise<Response>((resolve, reject) =>
      request.logout((error) => {
        if (error) return reject(error);
        request.flash('info', 'You are signed out.');
        response.clearCookie(signedInHint, { httpOnly: true, sameSite: 'lax', secure: request.secure });
        response.redirect(303, '/');
        resolve(response);
      }),
    );
  }
}
