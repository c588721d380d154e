import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IsInt, IsString, MinLength } from 'class-validator';
import express from 'express';
import type { ExpressMiddlewareInterface } from 'routing-controllers';
import { Body, Get, JsonController, Middleware, Post, useExpressServer } from 'routing-controllers';
import supertest from 'supertest';
import type { SessionOptions } from '../../src';
import { Session, SessionValue, createSessionMiddleware, session } from '../../src';
import { quietLogger, storesUnderTest, testSecret } from '../helpers/stores';

class User {
  @IsInt() id!: number;
  @IsString() @MinLength(2) name!: string;

  greeting(): string {
    return `Hello ${this.name}`;
  }
}

@JsonController('/d')
class DecoratedController {
  @Get('/all')
  all(@Session() current: Session) {
    return current;
  }

  @Post('/users')
  store(@Session() current: Session) {
    current.users = [
      { id: 1, name: 'Sharon' },
      { id: 2, name: 'Asif' },
    ];
    return { stored: true };
  }

  @Get('/users')
  users(@SessionValue<User[]>('users', { required: true }) users: User[]) {
    return users;
  }

  @Get('/users/forbidden')
  usersForbidden(@SessionValue<User[]>('users', { required: true, status: 403 }) users: User[]) {
    return users;
  }

  @Post('/users/add')
  add(@SessionValue<User[]>('users', { default: [] }) users: User[]) {
    users.push({ id: users.length + 1, name: 'Added' } as User);
    return { count: users.length };
  }

  @Get('/users/peek')
  peek(@SessionValue<User[]>('users', { default: [] }) users: User[]) {
    return { count: users.length };
  }

  @Get('/users/validated')
  validated(@SessionValue<User[]>('users', { validate: User }) users: User[]) {
    return { greetings: users.map((user) => user.greeting()) };
  }

  @Post('/user')
  setUser(@Session() current: Session, @Body() body: object) {
    current.user = body;
    return { stored: true };
  }

  @Get('/user')
  user(@SessionValue<User>('user', { validate: true, required: true }) user: User) {
    return { isUser: user instanceof User, greeting: user.greeting() };
  }

  @Post('/user/rename')
  rename(@SessionValue<User>('user', { validate: true, required: true }) user: User) {
    user.name = 'Renamed';
    return { renamed: true };
  }
}

/**
 * routing-controllers treats a missing or empty `middlewares` list as "every middleware class in the
 * process"; listing one unrelated class keeps the other specs' session middleware classes out.
 */
@Middleware({ type: 'after' })
class UnrelatedMiddleware implements ExpressMiddlewareInterface {
  use(_request: unknown, _response: unknown, next: () => void) {
    next();
  }
}

type Mounting = { name: string; mount(app: express.Express, options: SessionOptions): void };

const mountings: Mounting[] = [
  {
    name: 'app.use(session())',
    mount(app, options) {
      app.use(session(options));
      useExpressServer(app, { controllers: [DecoratedController], middlewares: [UnrelatedMiddleware] });
    },
  },
  {
    name: 'the middleware class',
    mount(app, options) {
      useExpressServer(app, {
        controllers: [DecoratedController],
        middlewares: [createSessionMiddleware(options)],
      });
    },
  },
];

for (const store of storesUnderTest) {
  for (const mounting of mountings) {
    describe(`decorators on the ${store.name} store, mounted with ${mounting.name}`, () => {
      const agent = () => {
        const app = express();
        mounting.mount(app, { secret: testSecret, logger: quietLogger, ...store.options() });
        return supertest.agent(app);
      };

      it('@Session() injects the session; returning it gives its plain data', async () => {
        const client = agent();
        await client.post('/d/users').expect(200);
        const all = await client.get('/d/all').expect(200);
        assert.deepEqual(all.body, {
          users: [
            { id: 1, name: 'Sharon' },
            { id: 2, name: 'Asif' },
          ],
        });
      });

      it('@SessionValue required answers 401 JSON when the value is missing, or the status asked for', async () => {
        const client = agent();
        const missing = await client.get('/d/users').expect(401);
        assert.equal(missing.body.name, 'SessionValueRequiredError');
        assert.match(missing.body.message, /holds no "users"/);
        await client.get('/d/users/forbidden').expect(403);
        await client.post('/d/users');
        assert.equal((await client.get('/d/users').expect(200)).body.length, 2);
      });

      it('saves changes made to an injected array, also one that started as the default', async () => {
        const client = agent();
        assert.deepEqual((await client.get('/d/users/peek')).body, { count: 0 });
        await client.post('/d/users/add').expect(200);
        await client.post('/d/users/add').expect(200);
        assert.deepEqual((await client.get('/d/users/peek')).body, { count: 2 });
      });

      it('does not store a default the action only read', async () => {
        const client = agent();
        const peek = await client.get('/d/users/peek');
        assert.equal(peek.headers['set-cookie'], undefined);
      });

      it('validates into a class instance and saves changes made to it', async () => {
        const client = agent();
        await client.post('/d/user').send({ id: 7, name: 'Sharon' });
        assert.deepEqual((await client.get('/d/user').expect(200)).body, {
          isUser: true,
          greeting: 'Hello Sharon',
        });
        await client.post('/d/user/rename').expect(200);
        assert.deepEqual((await client.get('/d/user')).body.greeting, 'Hello Renamed');
        await client.post('/d/users');
        assert.deepEqual((await client.get('/d/users/validated').expect(200)).body, {
          greetings: ['Hello Sharon', 'Hello Asif'],
        });
      });

      it('answers 400 naming the key and constraint when the stored value is invalid', async () => {
        const client = agent();
        await client.post('/d/user').send({ id: 'seven', name: 'S' });
        const invalid = await client.get('/d/user').expect(400);
        assert.equal(invalid.body.name, 'SessionValueInvalidError');
        assert.match(invalid.body.message, /"user" does not match User: id: id must be an integer number/);
      });
    });
  }
}

describe('the routing-controllers surface', () => {
  it('tells the developer how to mount the middleware when none ran', async () => {
    const app = express();
    useExpressServer(app, { controllers: [DecoratedController], middlewares: [UnrelatedMiddleware] });
    const response = await supertest(app).get('/d/all').expect(500);
    assert.equal(response.body.name, 'SessionNotMountedError');
    assert.match(response.body.message, /app\.use\(session\(options\)\)/);
  });

  it('keeps two apps in one process apart, each with its own middleware class and store', async () => {
    const build = (middleware: ReturnType<typeof createSessionMiddleware>) => {
      const app = express();
      useExpressServer(app, { controllers: [DecoratedController], middlewares: [middleware] });
      return app;
    };
    const first = build(
      createSessionMiddleware({ secret: testSecret, driver: 'memory', logger: quietLogger }),
    );
    const second = build(
      createSessionMiddleware({ secret: testSecret, driver: 'memory', logger: quietLogger }),
    );
    const stored = await supertest(first).post('/d/users');
    const cookie = stored.headers['set-cookie']![0]!.split(';')[0]!;
    assert.equal((await supertest(first).get('/d/all').set('Cookie', cookie)).body.users.length, 2);
    assert.deepEqual((await supertest(second).get('/d/all').set('Cookie', cookie)).body, {});
  });

  it('refuses, with a clear error, an app that picked up another app’s session middleware', async () => {
    createSessionMiddleware({ secret: testSecret, driver: 'memory', logger: quietLogger });
    const app = express();
    useExpressServer(app, { controllers: [DecoratedController] });
    const response = await supertest(app).get('/d/all').expect(500);
    assert.match(response.text, /Two different session middlewares ran for one request/);
  });
});
