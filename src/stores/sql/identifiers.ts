import { SessionConfigError } from '../../errors';

/**
 * A table or schema name from the options, checked so that it can be quoted into SQL as it is: letters,
 * digits and underscores, not starting with a digit, at most `maxLength` characters. Anything else is a
 * SessionConfigError, never SQL.
 */
export function sqlIdentifier(option: string, value: unknown, fallback: string, maxLength: number): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) || value.length > maxLength) {
    throw new SessionConfigError(
      `Option ${option} is ${JSON.stringify(value)}; write a name of letters, digits and underscores ` +
        `(not starting with a digit), at most ${maxLength} characters.`,
    );
  }
  return value;
}
