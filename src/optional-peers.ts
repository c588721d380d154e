// routing-controllers, class-validator, class-transformer and reflect-metadata are optional peer dependencies:
// a plain Express app installs none of them. They are loaded here, the first time a feature that needs one
// is used (the decorators, createSessionMiddleware, option `schema`, `validate`), never when the package is
// imported; without one, that feature throws a SessionConfigError naming what to install.
import type * as ClassTransformer from 'class-transformer';
import type * as ClassValidator from 'class-validator';
import type * as RoutingControllers from 'routing-controllers';
import { SessionConfigError } from './errors';
import { SessionObject } from './session/session';

/** True when `error` says that `name` itself (not one of its own dependencies) cannot be resolved. */
function isNotInstalled(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}

/** The package, or undefined when it is not installed. */
function loadOptional<T>(name: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    if (isNotInstalled(error, name)) return undefined;
    throw error;
  }
}

/** The packages `feature` needs, in order; one SessionConfigError naming every one that is not installed. */
function loadPeers(feature: string, names: readonly string[]): unknown[] {
  const loaded = names.map((name) => loadOptional(name));
  const missing = names.filter((_name, index) => loaded[index] === undefined);
  if (missing.length > 0) {
    throw new SessionConfigError(
      `${feature} needs ${missing.join(' and ')}: npm install ${missing.join(' ')} ` +
        '(optional peer dependencies of routing-controllers-session, used only by its decorators, ' +
        'createSessionMiddleware and the schema option).',
    );
  }
  return loaded;
}

let cookieHidden = false;

/**
 * `session.cookie` is listed among the session's keys (as in express-session) but left out of
 * class-transformer's plain output (routing-controllers' `classTransformer` answering with a session), as
 * `@Exclude()` would: registered on the class-transformer this library resolves, once it is loaded.
 */
function hideCookieFrom(classTransformer: typeof ClassTransformer): void {
  if (cookieHidden) return;
  cookieHidden = true;
  classTransformer.Exclude()(SessionObject.prototype, 'cookie');
}

/** Hides the cookie from class-transformer if the app (routing-controllers, say) has loaded it already. */
export function hideCookieFromLoadedClassTransformer(): void {
  if (cookieHidden) return;
  let path: string;
  try {
    path = require.resolve('class-transformer');
  } catch {
    return;
  }
  if (require.cache[path]) hideCookieFrom(loadOptional<typeof ClassTransformer>('class-transformer')!);
}

/** routing-controllers, for `feature` (e.g. "createSessionMiddleware"); reflect-metadata first, if installed. */
export function routingControllers(feature: string): typeof RoutingControllers {
  // Parameter types (`validate: true`) are recorded only where reflect-metadata is loaded before the
  // controller class is defined; routing-controllers apps import it themselves, this is for the others.
  loadOptional('reflect-metadata');
  const [routing] = loadPeers(feature, ['routing-controllers']) as [typeof RoutingControllers];
  const classTransformer = loadOptional<typeof ClassTransformer>('class-transformer');
  if (classTransformer) hideCookieFrom(classTransformer);
  return routing;
}

export interface Validation {
  classValidator: typeof ClassValidator;
  classTransformer: typeof ClassTransformer;
  /** Where class-transformer keeps @Type() metadata; the package has no typed entry point for it. */
  typeMetadata: { findTypeMetadata(target: object, propertyName: string): unknown };
}

let validation: Validation | undefined;

/** class-validator and class-transformer, for `feature` (e.g. "Option schema"). */
export function validationPeers(feature: string): Validation {
  if (validation) return validation;
  const [classValidator, classTransformer] = loadPeers(feature, ['class-validator', 'class-transformer']) as [
    typeof ClassValidator,
    typeof ClassTransformer,
  ];
  hideCookieFrom(classTransformer);
  const { defaultMetadataStorage } = loadOptional<{ defaultMetadataStorage: Validation['typeMetadata'] }>(
    'class-transformer/cjs/storage',
  )!;
  validation = { classValidator, classTransformer, typeMetadata: defaultMetadataStorage };
  return validation;
}
