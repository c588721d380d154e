import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { SessionCookie } from '../src';
import type { SessionBackend, SessionState } from '../src/session/session';
import { ChangeTracker } from '../src/session/change-tracker';
import { createSession } from '../src/session/session';

const unusedBackend: SessionBackend = {
  regenerate: async (session) => session,
  destroy: async () => undefined,
  save: async () => undefined,
  reload: async () => undefined,
};

function loadedSession(data: Record<string, unknown> = {}) {
  const state: SessionState = {
    id: 'id',
    cookie: new SessionCookie(),
    storedCookieSettings: undefined,
    tracker: new ChangeTracker(),
    createdAt: 0,
    lastSeenAt: 0,
    isNew: false,
    idChanged: false,
    touched: false,
    flashedKeys: new Set(),
    agedFlashKeys: [],
    backend: unusedBackend,
  };
  state.tracker.reset(data);
  return { session: createSession<Record<string, unknown>>(state), state };
}

describe('the Session object', () => {
  it('reads and writes data keys as plain properties, with in, Object.keys and JSON', () => {
    const { session } = loadedSession({ users: [1] });
    session.theme = 'dark';
    assert.ok('users' in session);
    assert.deepEqual(
      Object.keys(session),
      ['cookie', 'users', 'theme'],
      'cookie first, as in express-session',
    );
    assert.equal(JSON.stringify(session), '{"users":[1],"theme":"dark"}');
    assert.deepEqual({ ...session }, { cookie: session.cookie, users: [1], theme: 'dark' });
    assert.equal(inspect(session), "{ users: [ 1 ], theme: 'dark' }");
  });

  it('tracks changes per top-level key, deep mutations included', () => {
    const { session, state } = loadedSession({ users: [1], theme: 'dark', gone: 1 });
    (session.users as number[]).push(2);
    session.gone = null;
    assert.deepEqual(state.tracker.changes(), {
      set: { users: [1, 2] },
      json: { users: '[1,2]' },
      removed: ['gone'],
    });
  });

  it('removes a key set to null or undefined, or deleted', () => {
    const { session } = loadedSession({ a: 1, b: 2, c: 3 });
    session.a = null;
    session.b = undefined;
    delete session.c;
    assert.deepEqual(Object.keys(session), ['cookie']);
  });

  it('offers helpers that never collide with data keys', () => {
    const { session } = loadedSession({ count: 1 });
    assert.equal(session.get('missing', 'fallback'), 'fallback');
    assert.equal(session.increment('count', 2), 3);
    assert.deepEqual(session.push('list', 'a'), ['a']);
    assert.equal(session.has('list'), true);
    assert.equal(session.pull('list', []) instanceof Array, true);
    assert.equal(session.has('list'), false);
    session.set('x', 1).forget('x');
    assert.deepEqual(session.all(), { count: 3 });
    assert.throws(
      () => session.increment('list2', 1) && session.set('s', 'a') && session.increment('s'),
      /holds a string/,
    );
    assert.throws(() => session.push('count', 1), /not an array/);
  });

  it('refuses values that cannot survive JSON, naming the key', () => {
    const { session } = loadedSession();
    class WithMethods {
      greet() {
        return 'hi';
      }
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => (session.a = () => 1), /"a" holds a function/);
    assert.throws(() => (session.b = 10n), /"b" holds a BigInt/);
    assert.throws(() => (session.c = new WithMethods()), /"c" holds an instance of WithMethods/);
    assert.throws(() => (session.d = cyclic), /"d" holds a circular reference/);
    assert.throws(() => (session.e = { nested: [NaN] }), /"e" holds NaN/);
    assert.throws(() => (session.f = new Map()), /"f" holds an instance of Map/);
    session.g = { when: new Date(0), list: [1, 'two', null, { three: true }] };
  });

  it('refuses a changed value made unsafe by a deep mutation when changes are collected', () => {
    const { session, state } = loadedSession({ nested: {} });
    Object.assign(session.nested as object, { count: 1, callback: () => 1 });
    assert.throws(() => state.tracker.changes(), /"nested" holds a function/);
  });

  it('refuses reserved names and prototype keys', () => {
    const { session } = loadedSession();
    for (const name of ['id', 'cookie', 'save', 'regenerate', 'get', 'toJSON', '__proto__', 'constructor']) {
      assert.throws(() => (session[name] = 1), /reserved name|replaced by another session cookie/, name);
    }
  });

  it('drops prototype-polluting keys when loading data', () => {
    const { session } = loadedSession(JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'));
    assert.deepEqual(Object.keys(session), ['cookie', 'ok']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('the change tracker', () => {
  it('compares only keys the request wrote or handed out, and keeps tracking a held value after a save', () => {
    const tracker = new ChangeTracker();
    tracker.reset({ users: [1], untouched: { deep: true } });
    const users = tracker.handOut('users') as number[];
    users.push(2);
    const firstSave = tracker.changes();
    assert.deepEqual(firstSave, { set: { users: [1, 2] }, json: { users: '[1,2]' }, removed: [] });
    tracker.reset({ ...tracker.data, ...firstSave.set });
    users.push(3);
    assert.deepEqual(tracker.changes(), {
      set: { users: [1, 2, 3] },
      json: { users: '[1,2,3]' },
      removed: [],
    });
  });

  it('sees values handed out through spreading and Object.entries', () => {
    const { session, state } = loadedSession({ profile: { name: 'Sharon' } });
    const [, [, profile]] = Object.entries(session) as [unknown, [string, { name: string }]];
    profile.name = 'Asif';
    assert.deepEqual(state.tracker.changes().set, { profile: { name: 'Asif' } });
  });

  it('saves an adopted default only once it changes', () => {
    const tracker = new ChangeTracker();
    const cart = tracker.adopt('cart', [] as string[]);
    assert.deepEqual(tracker.changes(), { set: {}, json: {}, removed: [] });
    cart.push('apple');
    assert.deepEqual(tracker.changes(), {
      set: { cart: ['apple'] },
      json: { cart: '["apple"]' },
      removed: [],
    });
  });
});
