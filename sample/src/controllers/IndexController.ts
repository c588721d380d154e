import type { Request, Response } from 'express';
import { Delete, Get, JsonController, Post, Req, Res } from 'routing-controllers';
import { Session, SessionValue } from 'routing-controllers-session';
import { User } from '../users';

const sharonAndAsif: User[] = [
  { id: 1, name: 'Sharon' },
  { id: 2, name: 'Asif' },
];

/**
 * Every example of the docs, once with `request.session` and once with the decorators. A JSON controller: what
 * an action returns, and the errors it throws (a missing `@SessionValue` is a 401), are sent as JSON.
 */
@JsonController()
export class IndexController {
  // Read all data in the session.
  @Get('/session')
  all(@Req() request: Request, @Res() response: Response) {
    try {
      console.log(request.session);
      return response.json(request.session);
    } catch (error) {
      console.error(error);
      throw error;
    }
  }

  @Get('/decorated/session')
  allDecorated(@Session() session: Session) {
    console.log(session);
    return session;
  }

  // Determine whether an item exists in the session.
  @Get('/users/exists')
  exists(@Req() request: Request, @Res() response: Response) {
    if (request.session['users']) return response.json({ exists: true });
    return response.json({ exists: false });
  }

  @Get('/decorated/users/exists')
  existsDecorated(@SessionValue('users') users?: User[]) {
    return { exists: users !== undefined };
  }

  // Store data in the session.
  @Post('/users')
  store(@Req() request: Request, @Res() response: Response) {
    request.session['users'] = sharonAndAsif;
    return response.json({ stored: request.session['users'] });
  }

  @Post('/decorated/users')
  storeDecorated(@Session() session: Session) {
    session.users = sharonAndAsif;
    return { stored: session.users };
  }

  // Read one typed, validated value; 401 when it is missing.
  @Get('/decorated/users')
  usersDecorated(@SessionValue('users', { required: true, validate: User }) users: User[]) {
    return users;
  }

  // Delete data from the session.
  @Delete('/users')
  remove(@Req() request: Request, @Res() response: Response) {
    request.session['users'] = null;
    return response.send('Users deleted');
  }

  @Delete('/decorated/users')
  removeDecorated(@Session() session: Session) {
    session.users = null;
    return 'Users deleted';
  }

  // Regenerate the session id (defeats session fixation), callback form.
  @Post('/regenerate')
  regenerate(@Req() request: Request, @Res() response: Response) {
    return new Promise<Response>((resolve) =>
      request.session.regenerate(() => resolve(response.send('Session was regenerated'))),
    );
  }

  @Post('/decorated/regenerate')
  async regenerateDecorated(@Session() session: Session) {
    await session.regenerate();
    return 'Session was regenerated';
  }
}
