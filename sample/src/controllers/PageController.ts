import type { NextFunction, Request, Response } from 'express';
import flash from 'connect-flash';
import passport from 'passport';
import { Controller, Get, Post, Req, Res, UseBefore } from 'routing-controllers';
import type { UserSessions } from 'routing-controllers-session';
import { renderPage } from '../page';
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

function signIn(request: Request, response: Response, next: NextFunction): void {
  passport.authenticate('local', (error: unknown, user: Express.User | false) => {
    if (error) return next(error);
    if (!user) {
      request.flash('info', 'Wrong username or password.');
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
    const sessions = user
      ? await userSessionsOf(request).listUserSessions(user.id, { current: request.sessionID })
      : [];
    response.type('html').send(
      renderPage({
        user,
        messages: request.flash('info'),
        cart: request.session.cart ?? [],
        sessions,
        demo: demoAccount,
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
      const revoked = await userSessionsOf(request).revokeUserSessions(user.id, {
        except: request.sessionID,
      });
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
        response.redirect(303, '/');
        resolve(response);
      }),
    );
  }
}
