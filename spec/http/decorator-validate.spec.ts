import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IsInt, IsString } from 'class-validator';
import express from 'express';
import { Body, Get, JsonController, Post, useExpressServer } from 'routing-controllers';
import supertest from 'supertest';
import { Session, SessionConfigError, SessionValue, createSessionMiddleware } from '../../src';
import { quietLogger, testSecret } from '../helpers/stores';

type ControllerClass = new () => object;

class Profile {
  @IsInt() id!: number;
  @IsString() name!: string;
}

/** Builds a routing-controllers app around `defineController()`, as an app does at start-up. */
function startApp(defineController: () => ControllerClass) {
  const app = express();
  useExpressServer(app, {
    controllers: [defineController()],
    middlewares: [createSessionMiddleware({ secret: testSecret, driver: 'memory', logger: quietLogger })],
  });
  return app;
}

/** The start-up error of an app whose controller is defined by `defineController`. */
function startUpError(defineController: () => ControllerClass): SessionConfigError {
  let caught: unknown;
  try {
    startApp(defineController);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof SessionConfigError,
    `expected a SessionConfigError at start-up, got ${String(caught)}`,
  );
  return caught;
}

describe('@SessionValue validate: true needs a class the parameter type names', () => {
  it('refuses at start-up a union type (emitted as Object), and says to name the class', () => {
    const error = startUpError(() => {
      @JsonController('/union')
      class UnionController {
        @Get('/')
        show(@SessionValue<Profile>('profile', { validate: true }) profile: Profile | undefined) {
          return profile;
        }
      }
      return UnionController;
    });
    assert.match(error.message, /@SessionValue\('profile', \{ validate: true \}\)/);
    assert.match(error.message, /UnionController\.show/);
    assert.match(error.message, /\bObject\b/);
    assert.match(error.message, /validate: Profile/);
  });

  it('refuses an array parameter and a primitive one', () => {
    const arrayError = startUpError(() => {
      @JsonController('/array')
      class ArrayController {
        @Get('/')
        list(@SessionValue<Profile[]>('profiles', { validate: true }) profiles: Profile[]) {
          return profiles;
        }
      }
      return ArrayController;
    });
    assert.match(arrayError.message, /\bArray\b/);
    assert.match(arrayError.message, /validate: Profile/);
    for (const define of [
      () => {
        @JsonController('/string')
        class StringController {
          @Get('/')
          name(@SessionValue<string>('name', { validate: true }) name: string) {
            return name;
          }
        }
        return StringController;
      },
      () => {
        @JsonController('/number')
        class NumberController {
          @Get('/')
          visits(@SessionValue('visits', { validate: true }) visits: number) {
            return visits;
          }
        }
        return NumberController;
      },
      () => {
        @JsonController('/boolean')
        class BooleanController {
          @Get('/')
          flag(@SessionValue<boolean>('flag', { validate: true }) flag: boolean) {
            return flag;
          }
        }
        return BooleanController;
      },
    ]) {
      assert.match(startUpError(define).message, /\b(String|Number|Boolean)\b/);
    }
  });

  it('validates a union parameter against the class named in validate', async () => {
    const app = startApp(() => {
      @JsonController('/named')
      class NamedController {
        @Post('/')
        store(@Session() current: Session, @Body() body: object) {
          current.profile = body;
          return { stored: true };
        }

        @Get('/')
        show(@SessionValue<Profile>('profile', { validate: Profile }) profile: Profile | undefined) {
          return { isProfile: profile instanceof Profile, profile };
        }
      }
      return NamedController;
    });
    const client = supertest.agent(app);
    await client.post('/named').send({ id: 'seven', name: 'Sharon' }).expect(200);
    const invalid = await client.get('/named').expect(400);
    assert.match(invalid.body.message, /"profile" does not match Profile: id: id must be an integer number/);
    await client.post('/named').send({ id: 7, name: 'Sharon' }).expect(200);
    assert.deepEqual((await client.get('/named').expect(200)).body, {
      isProfile: true,
      profile: { id: 7, name: 'Sharon' },
    });
  });
});
