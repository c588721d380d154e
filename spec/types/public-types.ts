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
    /** Nullable: `= null` (which removes the key) compiles only for a key declared so. */
    lastError?: string | null;
  }
}

function takesUsers(users: TypedUser[] | undefined): number {
  return users?.length ?? 0;
}

export function classicAccess(request: Request): void {
  const users: TypedUser[] | undefined = request.session.typedUsers;
  // a declared key reads as T | undefined, as with express-session's types (issue 18)
  takesUsers(request.session.typedUsers);
  request.session.typedUsers = [{ id: 1, name: 'Sharon' }];
  request.session.typedUsers = undefined;
  delete request.session.typedUsers;
  // @ts-expect-error = null (which removes the key at run time) needs the key declared nullable
  request.session.typedUsers = null;
  request.session.lastError = null;
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

/** One session type both ways: request.session is a Session, and a Session is express-session's. */
export function oneSessionType(request: Request, injected: SessionOfApp): void {
  const fromRequest: SessionOfApp = request.session;
  const backToRequest: Request['session'] = injected;
  takesUsers(injected.typedUsers);
  // @ts-expect-error = null needs the key declared nullable, on an injected session too
  injected.typedUsers = null;
  void [fromRequest, backToRequest];
}

/** Named sessions: request.sessions by name, each one the same Session type, undefined when not mounted. */
export function namedSessions(request: Request): void {
  const admin: SessionOfApp | undefined = request.sessions.admin;
  // @ts-expect-error a named session may not be on the request: check it first
  request.sessions.admin.set('visits', 1);
  request.sessions.admin?.set('visits', 1);
  // @ts-expect-error visits is declared a number on a named session too
  request.sessions.admin?.set('visits', 'one');
  const visits: number | undefined = request.sessions['admin']?.get('visits');
  void [admin, visits];
}

@JsonController()
export class NamedSessionsController {
  @Get('/named')
  named(
    @Session('admin') admin: SessionOfApp,
    @SessionValue('visits', { session: 'admin', required: true }) visits: number,
  ) {
    return { admin: admin.id, visits };
  }

  @Get('/named-wrong-parameter')
  // @ts-expect-error visits holds a number, whichever session it is read from
  wrongParameter(@SessionValue('visits', { session: 'admin' }) visits: string[]) {
    return visits;
  }
}

@JsonController()
export class TypedController {
  @Get('/typed')
  typed(@Session() current: SessionOfApp, @SessionValue('typedUsers') users: TypedUser[]) {
    // @ts-expect-error id is a number
    const id: string = users[0]!.id;
    return { count: current.typedUsers?.length, id };
  }

  @Get('/keys')
  keys(
    @SessionValue('visits') visits: number | undefined,
    @SessionValue('visits', { default: 0 }) counted: number,
    @SessionValue('typedUsers', { default: [] }) users: TypedUser[],
    @SessionValue('visits') loose: unknown,
    // an undeclared key takes its type explicitly (the escape hatch)
    @SessionValue<string[]>('basket', { default: [] }) basket: string[],
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    @SessionValue<any>('anything') anything: Date,
  ) {
    return { visits, counted, users, loose, basket, anything };
  }

  @Get('/typo')
  // @ts-expect-error a typo of a declared key
  typo(@SessionValue('typedUser') users: TypedUser[]) {
    return users;
  }

  @Get('/wrong-parameter')
  // @ts-expect-error visits holds a number, not a string[]
  wrongParameter(@SessionValue('visits') visits: string[]) {
    return visits;
  }

  @Get('/wrong-default')
  // @ts-expect-error the default of a TypedUser[] key is a TypedUser[]
  wrongDefault(@SessionValue('typedUsers', { default: 5 }) users: TypedUser[]) {
    return users;
  }

  @Get('/undeclared')
  // @ts-expect-error an undeclared key without its type is refused like a typo
  undeclared(@SessionValue('basket', { default: [] }) basket: string[]) {
    return basket;
  }
}

// @ts-expect-error an unknown driver is refused at compile time too
defineSessionConfig({ driver: 'mongo' });
// @ts-expect-error a misspelt option beside a valid one (the generic used to let it through)
defineSessionConfig({ driver: 'memory', idleTimout: '2h' });
// @ts-expect-error a misspelt cookie attribute, in a nested object
defineSessionConfig({ cookie: { path: '/', maxAg: 60_000 } });
defineSessionConfig({ driver: 'file', idleTimeout: '2h', cookie: { maxAge: 60_000, sameSite: 'strict' } });
