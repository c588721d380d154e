import type { Action, HttpError } from 'routing-controllers';
import { SessionNotMountedError } from '../errors';
import { routingControllers, validationPeers } from '../optional-peers';
import type { SessionData, SessionOf } from '../session/session';
import { sessionState } from '../session/session';
import type { ClassConstructor } from './schema';
import { validateAgainst } from './schema';

/** The type of an injected session: the Session object with the app's SessionData keys. */
export type Session<Data extends object = SessionData> = SessionOf<Data>;

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
}

function sessionOf(action: Action): SessionOf<object> {
  const current = (action.request as { session?: SessionOf<object> }).session;
  if (!current || !current[sessionState]) throw new SessionNotMountedError();
  return current;
}

function httpError(status: number, name: string, message: string): HttpError {
  const error = new (routingControllers('@SessionValue()').HttpError)(status, message);
  error.name = name;
  return error;
}

/** Injects the request's session; writing to it is writing to `request.session`. */
export function Session(): ParameterDecorator {
  return routingControllers('@Session()').createParamDecorator({
    required: false,
    value: (action: Action) => sessionOf(action),
  }) as ParameterDecorator;
}

/**
 * Injects one session value, typed by the parameter. Changes made to an injected object or array are saved.
 * `@SessionValue('users', { required: true, validate: true }) users: UserList`
 */
export function SessionValue<Key extends keyof SessionData & string>(
  key: Key | string,
  options: SessionValueOptions = {},
): ParameterDecorator {
  const { createParamDecorator } = routingControllers('@SessionValue()');
  if (options.validate) validationPeers("@SessionValue()'s validate");
  return (target: object, method: string | symbol | undefined, index: number) => {
    const parameterTypes = Reflect.getMetadata?.('design:paramtypes', target, method as string) as
      unknown[] | undefined;
    const parameterType = parameterTypes?.[index];
    const schema =
      typeof options.validate === 'function'
        ? options.validate
        : options.validate && typeof parameterType === 'function' && parameterType !== Object
          ? (parameterType as ClassConstructor)
          : undefined;
    const decorate = createParamDecorator({
      required: false,
      value: async (action: Action) => {
        const current = sessionOf(action);
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
