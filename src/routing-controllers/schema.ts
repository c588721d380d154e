import type { ValidationError } from 'class-validator';
import { SessionConfigError } from '../errors';
import type { ResolvedSessionConfig } from '../config/options';
import { SessionValidationError } from '../errors';
import type { SessionChecks } from '../manager';
import { validationPeers } from '../optional-peers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ClassConstructor<T = unknown> = new (...args: any[]) => T;

/** `users[0].name: name must be a string`, from the first failing constraint, however deep. */
function describeFirstError(errors: ValidationError[], path = ''): { key: string; text: string } | undefined {
  for (const error of errors) {
    const property = path ? `${path}.${error.property}` : error.property;
    const constraint = error.constraints && Object.values(error.constraints)[0];
    if (constraint) return { key: property, text: `${property}: ${constraint}` };
    const nested = describeFirstError(error.children ?? [], property);
    if (nested) return nested;
  }
  return undefined;
}

type Problem = { key: string; text: string };

async function validateOne<T>(schema: ClassConstructor<T>, plain: unknown, path: string) {
  if (typeof plain !== 'object' || plain === null) {
    return { instance: plain as T, problem: { key: path, text: `${path || 'value'}: must be an object` } };
  }
  const { classTransformer, classValidator } = validationPeers('Session validation');
  const instance = classTransformer.plainToInstance(schema, plain) as T;
  const errors = await classValidator.validate(instance as object, { forbidUnknownValues: false });
  return { instance, problem: describeFirstError(errors, path) };
}

/**
 * Transforms plain data into `schema` (each element, for an array) and validates it;
 * resolves to the instance(s) and the first problem, if any.
 */
export async function validateAgainst<T>(
  schema: ClassConstructor<T>,
  plain: unknown,
): Promise<{ instance: T | T[]; problem?: Problem }> {
  if (!Array.isArray(plain)) return validateOne(schema, plain, '');
  const results = await Promise.all(plain.map((item, index) => validateOne(schema, item, `[${index}]`)));
  return {
    instance: results.map((result) => result.instance),
    problem: results.find((result) => result.problem)?.problem,
  };
}

/**
 * Fails at start-up when the schema's decorators are invisible to this library's class-validator and
 * class-transformer: with two copies installed, nested data would otherwise be let through unchecked.
 */
export function assertSchemaVisible(schema: ClassConstructor): void {
  const { classValidator, typeMetadata } = validationPeers('Option schema');
  const rules = classValidator.getMetadataStorage().getTargetValidationMetadatas(schema, '', true, false);
  const twoCopies =
    'This happens when the app has its own copy of the package: class-validator and class-transformer are ' +
    'peer dependencies of routing-controllers-session, so install one copy of each (npm ls class-validator class-transformer).';
  if (rules.length === 0) {
    throw new SessionConfigError(
      `Option schema: ${schema.name} has no class-validator decorators that this library can see. ${twoCopies}`,
    );
  }
  const nested = rules.filter((rule) => rule.type === 'nestedValidation');
  const untyped = nested.find((rule) => !typeMetadata.findTypeMetadata(schema, rule.propertyName));
  if (untyped) {
    throw new SessionConfigError(
      `Option schema: ${schema.name}.${untyped.propertyName} is @ValidateNested() but has no @Type(() => ...) that ` +
        `this library can see, so its contents would not be checked. Add @Type(() => TheClass), or: ${twoCopies}`,
    );
  }
}

/** The lifecycle checks for the app's session schema: refuse invalid saves, discard or refuse invalid loads. */
export function schemaChecks(config: ResolvedSessionConfig): SessionChecks {
  const schema = config.schema as ClassConstructor | undefined;
  if (!schema) return {};
  assertSchemaVisible(schema);
  return {
    beforeSave: async (data) => {
      const { problem } = await validateAgainst(schema, data);
      if (problem) {
        throw new SessionValidationError(
          `The session was not saved: it does not match the ${schema.name} schema (${problem.text}).`,
          problem.key,
        );
      }
    },
    afterLoad: async (data) => {
      const { problem } = await validateAgainst(schema, data);
      if (!problem) return true;
      const message = `stored session data does not match the ${schema.name} schema (${problem.text})`;
      if (config.onInvalidData === 'error')
        throw new SessionValidationError(`The session cannot be used: ${message}.`, problem.key);
      config.logger.warn(`routing-controllers-session: ${message}; starting a fresh session.`);
      return false;
    },
  };
}
