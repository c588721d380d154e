import { SessionValidationError } from '../errors';

export const plainPrototypes = new Set<unknown>([Object.prototype, Array.prototype, null]);

function hasMethods(prototype: object): boolean {
  for (let current: object | null = prototype; current && current !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(current)) {
      if (
        name !== 'constructor' &&
        typeof Object.getOwnPropertyDescriptor(current, name)?.value === 'function'
      ) {
        return true;
      }
    }
    current = Object.getPrototypeOf(current) as object | null;
  }
  return false;
}

function describeProblem(value: unknown, ancestors: object[], allowInstances: boolean): string | undefined {
  switch (typeof value) {
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'bigint':
      return 'a BigInt (store it as a string)';
    case 'number':
      return Number.isFinite(value) ? undefined : `${value}, which JSON turns into null`;
    case 'object': {
      if (value === null || value instanceof Date) return undefined;
      if (ancestors.includes(value)) return 'a circular reference';
      const prototype = Object.getPrototypeOf(value) as object | null;
      if (!allowInstances && !plainPrototypes.has(prototype) && prototype && hasMethods(prototype)) {
        return `an instance of ${value.constructor?.name ?? 'a class'} with methods, which JSON would strip`;
      }
      ancestors.push(value);
      for (const child of Object.values(value)) {
        const problem = describeProblem(child, ancestors, allowInstances);
        if (problem) return problem;
      }
      ancestors.pop();
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Session data is stored as JSON; refuse what would not come back the same, naming the key.
 * Dates are accepted and come back as ISO strings, as with express-session. `allowInstances` accepts
 * class instances (a validated @SessionValue), which are stored as their own properties.
 */
export function assertJsonSafe(key: string, value: unknown, allowInstances = false): void {
  const problem = describeProblem(value, [], allowInstances);
  if (problem) {
    throw new SessionValidationError(
      `Session key "${key}" holds ${problem}; session data must survive a JSON round trip.`,
      key,
    );
  }
}
