import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import expressSession from 'express-session';
import { SessionConfigError, defineSessionConfig, session } from '../src';
import type { SessionOptions } from '../src';
import { resolveConfig } from '../src/config/options';
import { parseDuration } from '../src/config/duration';
import { quietLogger } from './helpers/stores';

const strongSecret = 'x'.repeat(32);

describe('options checked at start-up', () => {
  const environment = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = environment;
  });

  it('reads durations as seconds or as strings with a unit', () => {
    assert.equal(parseDuration(90), 90_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('250ms'), 250);
    for (const bad of [-1, 0, Infinity, '', 'soon', '5 years', null])
      assert.equal(parseDuration(bad), undefined);
  });

  it('refuses an unknown driver, saying what to write instead', () => {
    assert.throws(
      () => session({ driver: 'mongo' as never, secret: strongSecret }),
      (error: unknown) =>
        error instanceof SessionConfigError &&
        /driver is "mongo"; it must be one of 'file', 'memory', 'redis'/.test(error.message),
    );
  });

  it('refuses cookie attributes no browser accepts, naming the attribute and what to write', () => {
    const refused: Array<[object, RegExp]> = [
      [{ domain: 'localhost:3000' }, /cookie\.domain is "localhost:3000".*host name/],
      [{ path: 'no slash; here' }, /cookie\.path is "no slash; here".*starting with '\/'/],
      [{ sameSite: 'sometimes' }, /cookie\.sameSite is "sometimes".*'lax', 'strict', 'none'/],
      [{ priority: 'urgent' }, /cookie\.priority is "urgent".*'low', 'medium' or 'high'/],
      [{ expires: new Date(NaN) }, /cookie\.expires.*valid Date/],
      [{ maxAge: NaN }, /cookie\.maxAge is NaN; write a positive number/],
    ];
    for (const [cookie, message] of refused) {
      assert.throws(
        () => resolveConfig({ secret: strongSecret, logger: quietLogger, cookie }),
        (error: unknown) => error instanceof SessionConfigError && message.test(error.message),
        JSON.stringify(cookie),
      );
    }
  });

  it('holds a __Host- cookie name to what browsers require of it: Secure, path /, no domain', () => {
    const base = { secret: strongSecret, logger: quietLogger, name: '__Host-sid' };
    assert.doesNotThrow(() => resolveConfig(base));
    assert.throws(() => resolveConfig({ ...base, cookie: { domain: 'example.com' } }), /__Host-.*domain/);
    assert.throws(() => resolveConfig({ ...base, cookie: { path: '/app' } }), /__Host-.*path/);
    assert.throws(() => resolveConfig({ ...base, cookie: { secure: false } }), /__Host-.*secure/);
  });

  it('refuses a negative or unreadable timeout', () => {
    assert.throws(() => resolveConfig({ idleTimeout: -5, secret: strongSecret }), /Option idleTimeout is -5/);
    assert.throws(
      () => resolveConfig({ absoluteTimeout: 'a week', secret: strongSecret }),
      /'30m', '2h' or '7d'/,
    );
    assert.throws(() => resolveConfig({ cookie: { maxAge: -1 }, secret: strongSecret }), /cookie.maxAge/);
    assert.throws(() => resolveConfig({ maxSize: 0, secret: strongSecret }), /maxSize/);
  });

  it('reads regenerateGrace as a duration, off by default, and refuses one that is unreadable or over 5 minutes', () => {
    assert.equal(resolveConfig({ secret: strongSecret }).regenerateGraceMs, undefined);
    assert.equal(
      resolveConfig({ secret: strongSecret, regenerateGrace: false }).regenerateGraceMs,
      undefined,
    );
    assert.equal(resolveConfig({ secret: strongSecret, regenerateGrace: '10s' }).regenerateGraceMs, 10_000);
    assert.equal(resolveConfig({ secret: strongSecret, regenerateGrace: 3 }).regenerateGraceMs, 3000);
    assert.equal(resolveConfig({ secret: strongSecret, regenerateGrace: '5m' }).regenerateGraceMs, 300_000);
    for (const unreadable of [0, -1, 'soon']) {
      assert.throws(
        () => resolveConfig({ secret: strongSecret, regenerateGrace: unreadable }),
        (error: unknown) =>
          error instanceof SessionConfigError && /Option regenerateGrace is .*'90s'/.test(error.message),
      );
    }
    assert.throws(
      () => resolveConfig({ secret: strongSecret, regenerateGrace: '1h' }),
      (error: unknown) =>
        error instanceof SessionConfigError &&
        /regenerateGrace is "1h"; write at most '5m'.*planted it before the sign-in/.test(error.message),
    );
  });

  it('refuses regenerateGrace with an express-session store, which cannot hold its forwardings', () => {
    const store = new expressSession.MemoryStore();
    assert.throws(
      () => session({ secret: strongSecret, logger: quietLogger, store, regenerateGrace: '10s' }),
      (error: unknown) =>
        error instanceof SessionConfigError && /regenerateGrace needs a Keyv store/.test(error.message),
    );
  });

  it('refuses a missing or short secret in production', () => {
    process.env.NODE_ENV = 'production';
    assert.throws(() => resolveConfig({}), /Option secret is missing/);
    assert.throws(() => resolveConfig({ secret: 'short' }), /at least 32/);
    assert.throws(() => resolveConfig({ secret: [strongSecret, 'short'] }), /at least 32/);
    assert.deepEqual(resolveConfig({ secret: strongSecret }).secrets, [strongSecret]);
  });

  it('outside production replaces a missing secret with a random one and warns once', () => {
    process.env.NODE_ENV = 'development';
    const warnings: string[] = [];
    const config = resolveConfig({ logger: { ...quietLogger, warn: (message) => warnings.push(message) } });
    assert.equal(config.secrets[0]!.length, 64);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /no secret set/);
  });

  it('fills in the defaults: sid, HttpOnly, SameSite Lax, 2h idle, 7d absolute', () => {
    const config = resolveConfig({ secret: strongSecret });
    assert.equal(config.name, 'sid');
    assert.equal(config.cookie.httpOnly, true);
    assert.equal(config.cookie.sameSite, 'lax');
    assert.equal(config.idleTimeoutMs, 7_200_000);
    assert.equal(config.absoluteTimeoutMs, 604_800_000);
    assert.equal(config.resave, false);
    assert.equal(config.saveUninitialized, false);
    assert.equal(
      resolveConfig({ secret: strongSecret, absoluteTimeout: false }).absoluteTimeoutMs,
      undefined,
    );
  });

  it('warns once about an unknown option, naming it and the nearest known option', () => {
    const warnings: string[] = [];
    const logger = { ...quietLogger, warn: (message: string) => warnings.push(message) };
    // as from plain JavaScript, or a spread object that skips the compile-time check
    const fromJavaScript = { secret: strongSecret, logger, idleTimout: '2h' } as SessionOptions;
    const config = resolveConfig(fromJavaScript);
    assert.deepEqual(warnings, [
      'routing-controllers-session: unknown session option idleTimout; did you mean idleTimeout? It is ignored.',
    ]);
    assert.equal(config.idleTimeoutMs, 7_200_000);
    warnings.length = 0;
    session({
      ...fromJavaScript,
      idleTimout: undefined,
      mongoUrl: 'mongodb://x',
      driver: 'memory',
    } as SessionOptions);
    assert.deepEqual(warnings, [
      'routing-controllers-session: unknown session option idleTimout; did you mean idleTimeout? It is ignored.',
      'routing-controllers-session: unknown session option mongoUrl. It is ignored.',
    ]);
    warnings.length = 0;
    resolveConfig({ secret: strongSecret, logger, idleTimeout: '1h', cookie: { maxAge: 1000 }, key: 'sid' });
    assert.deepEqual(warnings, []);
  });

  it('defineSessionConfig returns its argument', () => {
    const options = { driver: 'memory' as const };
    assert.equal(defineSessionConfig(options), options);
  });
});
