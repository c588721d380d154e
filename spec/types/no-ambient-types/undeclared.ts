/**
 * An app that declares no SessionData (compiled alone, `"types": []`): any key is taken, its value is
 * `unknown`, and the parameter is not checked, as before keys were typed.
 */
import 'reflect-metadata';
import type { Request } from 'express';
import { Get, JsonController } from 'routing-controllers';
import { Session, SessionValue } from 'routing-controllers-session';

export function read(request: Request): unknown {
  const current: Session = request.session;
  return [current.users, request.session.users, request.sessionID];
}

@JsonController()
export class UsersController {
  @Get('/users')
  users(@SessionValue('users', { default: [] }) users: string[]) {
    return users;
  }
}
