import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IsArray, IsOptional, IsString, ValidateNested } from 'class-validator';
import supertest from 'supertest';
import { createTestApp, sessionCookieOf } from '../helpers/app';
import type { StoreUnderTest } from '../helpers/stores';
import { quietLogger, storesUnderTest, testSecret } from '../helpers/stores';
import { SessionConfigError, session } from '../../src';

class AppSession {
  @IsOptional() @IsString() theme?: string;
  @IsOptional() @IsArray() users?: unknown[];
}

class StricterSession {
  @IsOptional() @IsString({ each: true }) users?: string[];
}

/** A session holding `users: [1, 2]`, valid for AppSession and not for StricterSession (as after a deploy). */
async function sessionStoredUnderAppSession(store: StoreUnderTest) {
  const first = createTestApp({ ...store.options(), schema: AppSession });
  const cookie = sessionCookieOf(
    await supertest(first.app)
      .put('/keys/users')
      .send({ value: [1, 2] }),
  )!;
  return { first, cookie };
}

for (const store of storesUnderTest) {
  describe(`a session schema on the ${store.name} store`, () => {
    it('refuses a save that breaks the schema, names key and constraint, and keeps the previous record', async () => {
      const { app } = createTestApp({ ...store.options(), schema: AppSession });
      const agent = supertest.agent(app);
      await agent.put('/keys/theme').send({ value: 'dark' }).expect(200);
      const refused = await agent.put('/keys/users').send({ value: 'not a list' }).expect(500);
      assert.equal(refused.body.name, 'SessionValidationError');
      assert.match(
        refused.body.message,
        /does not match the AppSession schema \(users: users must be an array\)/,
      );
      await agent.put('/keys/theme').send({ value: 42 }).expect(500);
      assert.deepEqual((await agent.get('/session')).body.data, { theme: 'dark' });
    });

    it('discards stored data that no longer matches the schema, and reports it', async () => {
      const { first, cookie } = await sessionStoredUnderAppSession(store);
      const warnings: string[] = [];
      const deployed = createTestApp({
        store: first.handler.store,
        schema: StricterSession,
        logger: { ...quietLogger, warn: (message) => warnings.push(message) },
      });
      const read = await supertest(deployed.app).get('/session').set('Cookie', cookie).expect(200);
      assert.deepEqual(read.body.data, {});
      assert.match(
        warnings.join('\n'),
        /does not match the StricterSession schema.*starting a fresh session/,
      );
    });

    it("answers with an error for such data with onInvalidData: 'error'", async () => {
      const { first, cookie } = await sessionStoredUnderAppSession(store);
      const deployed = createTestApp({
        store: first.handler.store,
        schema: StricterSession,
        onInvalidData: 'error',
      });
      deployed.app.use(
        (
          error: Error,
          _request: unknown,
          response: { status(n: number): { send(t: string): void } },
          _next: unknown,
        ) => response.status(500).send(error.message),
      );
      const response = await supertest(deployed.app).get('/session').set('Cookie', cookie).expect(500);
      assert.match(response.text, /The session cannot be used: stored session data does not match/);
    });
  });
}

describe('a schema class whose decorators this library cannot see', () => {
  class Address {
    @IsString() city!: string;
  }

  class Undecorated {
    theme?: string;
  }

  class NestedWithoutType {
    @IsOptional() @ValidateNested() address?: Address;
  }

  it('fails at start-up, naming the class and the way out (one copy of class-validator and class-transformer)', () => {
    assert.throws(
      () => session({ secret: testSecret, driver: 'memory', schema: Undecorated }),
      (error) =>
        error instanceof SessionConfigError &&
        /Undecorated has no class-validator decorators.*one copy of each/.test(error.message),
    );
    assert.throws(
      () => session({ secret: testSecret, driver: 'memory', schema: NestedWithoutType }),
      /NestedWithoutType\.address is @ValidateNested\(\) but has no @Type/,
    );
  });
});
