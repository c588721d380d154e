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
    visits?: number;
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

export function helperAccess(current: SessionOfApp, request: Request): void {
  current.set('typedUsers', []);
  current.set('visits', 3);
  // @ts-expect-error visits is declared a number
  current.set('visits', 'three');
  const visits: number | undefined = current.get('visits');
  // @ts-expect-error get of a declared key is typed, not unknown
  const visitsAsText: string | undefined = current.get('visits');
  const pulled: TypedUser[] | undefined = current.pull('typedUsers');
  current.increment('visits');
  current.increment('visits', 2);
  // @ts-expect-error typedUsers does not hold a number
  current.increment('typedUsers');
  current.push('typedUsers', { id: 2, name: 'Asif' });
  // @ts-expect-error a typedUsers element is a TypedUser
  current.push('typedUsers', 'Asif');
  current.flashNext('visits', 1);
  // @ts-expect-error flashNext is typed like set
  current.flashNext('visits', 'one');
  const undeclared: unknown = current.get('anything');
  current.set('anything', { free: true });
  // the same helpers on request.session (express-session's Session type, which this library extends)
  request.session.set('visits', 4);
  // @ts-expect-error visits is declared a number on request.session too
  request.session.set('visits', 'four');
  const fromRequest: number | undefined = request.session.get('visits');
  void [visits, visitsAsText, pulled, undeclared, fromRequest];
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
