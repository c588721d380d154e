import type { NextFunction, Request, Response } from 'express';
import flash from 'connect-flash';
import passport from 'passport';
import { Get, JsonController, Post, Req, Res, UseBefore } from 'routing-controllers';
import { previousSignInOf } from '../sign-ins';

/** When the signed-in user signed in before this time, or null: a first sign-in, or no one signed in. */
const previousSignIn = (request: Request) => previousSignInOf(request)?.toISOString() ?? null;

function authenticate(request: Request, response: Response, next: NextFunction): void {
  passport.authenticate('local', (error: unknown, user: Express.User | false) => {
    if (error) return next(error);
    if (!user) {
      request.flash('error', 'Wrong username or password.');
      return response.status(401).json({ loggedIn: false, messages: request.flash('error') });
    }
    request.logIn(user, (loginError) => {
      if (loginError) return next(loginError);
      request.flash('info', `Welcome back, ${(user as { name: string }).name}!`);
      next();
    });
  })(request, response, next);
}

/**
 * Login and logout with passport-local, and a flash message with connect-flash, all on `request.session`.
 * Both read the session, so they run after the session middleware, which routing-controllers runs first.
 * A JSON controller, so that its errors are JSON too.
 */
@JsonController()
@UseBefore(passport.session(), flash())
export class AuthController {
  @Post('/login')
  @UseBefore(authenticate)
  login(@Req() request: Request, @Res() response: Response) {
    return response.json({ loggedIn: true, user: request.user, previousSignIn: previousSignIn(request) });
  }

  @Get('/me')
  me(@Req() request: Request, @Res() response: Response) {
    return response.json({
      user: request.user ?? null,
      previousSignIn: previousSignIn(request),
      messages: request.flash('info'),
    });
  }

  @Post('/logout')
  logout(@Req() request: Request, @Res() response: Response) {
    return new Promise<Response>((resolve, reject) =>
      request.logout((error) => (error ? reject(error) : resolve(response.json({ loggedOut: true })))),
    );
  }
}
