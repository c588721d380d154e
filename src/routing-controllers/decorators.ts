import type { Action, HttpError } from 'routing-controllers';
import { SessionConfigError, SessionNotMountedError } from '../errors';
import { routingControllers, validationPeers } from '../optional-peers';
import type { Session as ExpressSession, SessionData as ExpressSessionData } from 'express-session';
import type { SessionData, SessionOf, SessionValueOf } from '../session/session';
import { sessionState } from '../session/session';
import type { ClassConstructor } from './schema';
import { validateAgainst } from './schema';

/**
 * The type of `request.session` and of an injected session, one type both ways (`const s: Session =
 * request.session` compiles, and so does passing a Session where express-session's is expected): express-session's
 * `Session & Partial<SessionData>`, which this package extends with the app's SessionData keys and the helpers.
 */
export type Session<Data extends object = SessionData> = ExpressSession &
  Partial<ExpressSessionData> & { [Key in keyof Data]?: Data[Key] };

/** The keys `@SessionValue` takes: the keys declared in SessionData, or any string while none is declared. */
export type SessionKey = [keyof SessionData] extends [never] ? string : keyof SessionData & string;

/** The declared type of parameter `Index` of method `Name`, where the decorator can see it (public methods). */
type ParameterAt<Target, Name, Index extends number> = Name extends keyof Target
  ? Target[Name] extends (...parameters: infer Parameters) => unknown
    ? Parameters[Index]
    : unknown
  : unknown;

/** `unknown` (no constraint) when the parameter can hold the value; otherwise a type that names the problem. */
type Holds<Value, Parameter> = unknown extends Value
  ? unknown
  : [Value] extends [Parameter]
    ? unknown
    : { 'the parameter type cannot hold the session value, which is': Value };

/**
 * What `@SessionValue` returns: a parameter decorator that does not compile on a parameter whose declared type
 * cannot hold the key's value (a `number` key on a `string[]` parameter).
 */
export type SessionValueDecorator<Value> = <
  Target extends object,
  Name extends string | symbol | undefined,
  Index extends number,
>(
  target: Target,
  method: Name,
  index: Index & Holds<Value, ParameterAt<Target, Name, Index>>,
) => void;

export interface SessionValueOptions<Value = unknown> {
  /** Answer with an error (401 unless `status` says otherwise) when the value is missing. */
  required?: boolean;
  /** The status of the `required` error. Default 401. */
  status?: number;
  /** Check the value against the parameter's class (class-transformer + class-validator), or against this class. */
  validate?: boolean | ClassConstructor;
  /** The status when the stored value fails validation. Default 400. */
  invalidStatus?: number;
  /** Injected (and saved, once changed) when the session holds no value under this key. */
  default?: Value;
  /** Read from the session of the middleware with this `name` (`request.sessions[name]`), not `request.session`. */
  session?: string;
}

interface RequestWithSessions {
  session?: SessionOf<object>;
  sessions?: Record<string, SessionOf<object> | undefined>;
}

/** `request.session`, or with a name `request.sessions[name]` (named sessions). */
function sessionOf(action: Action, name: string | undefined): SessionOf<object> {
  const request = action.request as RequestWithSessions;
  const current = name === undefined ? request.session : request.sessions?.[name];
  if (!current || !current[sessionState]) throw new SessionNotMountedError(name);
  return current;
}

function httpError(status: number, name: string, message: string): HttpError {
  const error = new (routingControllers('@SessionValue()').HttpError)(status, message);
  error.name = name;
  return error;
}

/**
 * Injects the request's session; writing to it is writing to `request.session`. With a name, the session of the
 * middleware of that `name` (`request.sessions[name]`): `@Session('admin')`.
 */
export function Session(name?: string): ParameterDecorator {
  return routingControllers('@Session()').createParamDecorator({
    required: false,
    value: (action: Action) => sessionOf(action, name),
  }) as ParameterDecorator;
}

/** Design types that name no class to validate against: what TypeScript emits for unions, interfaces, arrays, primitives. */
const typesWithoutClass: readonly unknown[] = [
  Object,
  Array,
  String,
  Number,
  Boolean,
  Symbol,
  BigInt,
  Function,
  Promise,
];

/**
 * The class `validate` checks against: the one given, or the parameter's class. `validate: true` on a parameter
 * whose emitted type names no class (`Profile | undefined` emits Object) is refused when the decorator runs,
 * at start-up, instead of validating nothing.
 */
function schemaOf(
  key: string,
  validate: SessionValueOptions['validate'],
  parameterType: unknown,
  where: () => string,
): ClassConstructor | undefined {
  if (typeof validate === 'function') return validate;
  if (!validate) return undefined;
  if (typeof parameterType === 'function' && !typesWithoutClass.includes(parameterType)) {
    return parameterType as ClassConstructor;
  }
  const emitted =
    typeof parameterType === 'function'
      ? `TypeScript emitted its type as ${parameterType.name} (as it does for a union such as Profile | undefined, an interface, an array or a primitive)`
      : 'no type was emitted for it (emitDecoratorMetadata is off)';
  throw new SessionConfigError(
    `@SessionValue('${key}', { validate: true }) on ${where()}: ${emitted}, so there is no class to validate ` +
      `against. Name the class instead: \`@SessionValue('${key}', { validate: Profile })\` (for an array, the class of its elements).`,
  );
}

/**
 * Injects one session value. Changes made to an injected object or array are saved.
 * `@SessionValue('users', { required: true, validate: true }) users: UserList`
 *
 * The key is one declared in SessionData (any string while none is declared), `default` is of its type and the
 * parameter must be able to hold it. A key SessionData does not declare takes its type explicitly:
 * `@SessionValue<Cart>('cart')` (or `SessionValue<any>('cart')`).
 */
export function SessionValue<Key extends SessionKey>(
  key: Key,
  options?: SessionValueOptions<SessionValueOf<Key>>,
): SessionValueDecorator<SessionValueOf<Key>>;
export function SessionValue<Value = never>(
  key: [Value] extends [never] ? SessionKey : string,
  options?: SessionValueOptions<[Value][Value extends unknown ? 0 : never]>,
): SessionValueDecorator<Value>;
export function SessionValue(key: string, options: SessionValueOptions = {}): ParameterDecorator {
  const { createParamDecorator } = routingControllers('@SessionValue()');
  if (options.validate) validationPeers("@SessionValue()'s validate");
  return (target: object, method: string | symbol | undefined, index: number) => {
    const parameterTypes = Reflect.getMetadata?.('design:paramtypes', target, method as string) as
      unknown[] | undefined;
    const schema = schemaOf(key, options.validate, parameterTypes?.[index], () => {
      const owner = typeof target === 'function' ? target.name : target.constructor.name;
      return `parameter ${index} of ${owner}.${String(method)}`;
    });
    const decorate = createParamDecorator({
      required: false,
      value: async (action: Action) => {
        const current = sessionOf(action, options.session);
        let value = current.get(key);
        if (value === undefined && options.default !== undefined) {
          value = current[sessionState].tracker.adopt(key, structuredClone(options.default));
        }
        if (value === undefined) {
          if (!options.required) return undefined;
          throw httpError(
            options.status ?? 401,
            'SessionValueRequiredError',
            `The session holds no "${key}".`,
          );
        }
        if (!schema) return value;
        const { instance, problem } = await validateAgainst(schema, value);
        if (problem) {
          throw httpError(
            options.invalidStatus ?? 400,
            'SessionValueInvalidError',
            `The session value "${key}" does not match ${schema.name}: ${problem.text}.`,
          );
        }
        return current[sessionState].tracker.adopt(key, instance);
      },
    }) as ParameterDecorator;
    decorate(target, method, index);
  };
}
