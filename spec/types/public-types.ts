/**
 * Type tests for the public types: compiled by `npm run build` (which fails if an expected error does not
 * occur); nothing here runs.
 */
import 'reflect-metadata';
import type { Request } from 'express';
import { Get, JsonController } from 'routing-controllers';
import type { Session as SessionOfApp } from 'routing-controllers-session';
import { Session, SessionValue, defineSessionConfig } from 'routing-controllers-session';

interface TypedUser {
  id: number;
  name: string;
}

declare module 'routing-controllers-session' {
  interface SessionData {
    typedUsers?: TypedUser[];
  }
}

export function classicAccess(request: Request): void {
  const users: TypedUser[] | null | undefined = request.session.typedUsers;
  request.session.typedUsers = [{ id: 1, name: 'Sharon' }];
  request.session.typedUsers = null;
  // @ts-expect-error a number is not a TypedUser[]
  request.session.typedUsers = 5;
  // @ts-expect-error the name must be a string
  request.session.typedUsers = [{ id: 1, name: 2 }];
  void users;
  void request.session.regenerate(() => undefined);
}

export function helperAccess(current: SessionOfApp): void {
  current.set('typedUsers', []);
  const unknownValue: unknown = current.untyped;
  // @ts-expect-error an undeclared key is unknown, not any
  const notAString: string = current.untyped;
  void unknownValue;
  void notAString;
}

@JsonController()
export class TypedController {
  @Get('/typed')
  typed(@Session() current: SessionOfApp, @SessionValue('typedUsers') users: TypedUser[]) {
    // @ts-expect-error id is a number
    const id: string = users[0]!.id;
    return { count: current.typedUsers?.length, id };
  }
}

// @ts-expect-error an unknown driver is refused at compile time too
defineSessionConfig({ driver: 'mongo' });
defineSessionConfig({ driver: 'file', idleTimeout: '2h', cookie: { maxAge: 60_000, sameSite: 'strict' } });
