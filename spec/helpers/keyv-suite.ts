import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';

/** The part of Vitest's `expect` that @keyv/test-suite uses, on node:assert. */
function expect(actual: unknown) {
  return {
    toBe: (expected: unknown) => assert.equal(actual, expected),
    toEqual: (expected: unknown) => assert.deepEqual(actual, expected),
    toBeTruthy: () => assert.ok(actual),
    toBeFalsy: () => assert.ok(!actual),
    toBeNull: () => assert.equal(actual, null),
    toBeUndefined: () => assert.equal(actual, undefined),
    toBeDefined: () => assert.notEqual(actual, undefined),
    not: { toBe: (expected: unknown) => assert.notEqual(actual, expected) },
  };
}
expect.assertions = (_count: number) => undefined;

/** Tests of the suite (2.x, written for Keyv 5) that check Keyv 5 behaviour Keyv 6 changed for every adapter. */
const keyvFiveOnly = new Map([
  [
    '.deleteMany([keys]) with nonexistent keys resolves to false',
    'Keyv 6 resolves delete([keys]) to one boolean per key, an array, even with its own Map store',
  ],
  [
    'value can be BigInt using other serializer/deserializer',
    'sets Keyv 5 `serialize`/`deserialize` options and `store.opts`, which Keyv 6 replaced with `serialization`',
  ],
]);

/**
 * @keyv/test-suite, the Keyv project's adapter conformance suite, is written against Vitest's API;
 * this hands it node:test's instead, so it runs in our runner on the compiled output.
 */
export const nodeTestAsVitest = {
  it: (name: string, body: (context: { expect: typeof expect }) => unknown) =>
    it(name, { skip: keyvFiveOnly.get(name) }, async () => void (await body({ expect }))),
  beforeEach: (hook: () => unknown) => beforeEach(async () => void (await hook())),
  afterEach: (hook: () => unknown) => afterEach(async () => void (await hook())),
};
