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

describe('increments and pushes in the change tracker', () => {
  const withoutPlan = (changes: ReturnType<ChangeTracker['changes']>) => {
    const { planned: _planned, ...rest } = changes;
    return rest;
  };

  it('carries them as ops, not as values, while the request reads its own value', () => {
    const { session, state } = loadedSession({ visits: 4, seen: [1] });
    assert.equal(session.increment('visits'), 5);
    assert.equal(session.increment('visits', 2.5), 7.5);
    assert.deepEqual(session.push('seen', 2), [1, 2]);
    assert.deepEqual(session.push('fresh', { a: 1 }), [{ a: 1 }]);
    assert.deepEqual(session.all(), { visits: 7.5, seen: [1, 2], fresh: [{ a: 1 }] });
    assert.deepEqual(withoutPlan(state.tracker.changes()), {
      set: {},
      json: {},
      removed: [],
      ops: [
        { op: 'increment', key: 'visits', by: 3.5 },
        { op: 'push', key: 'seen', items: ['2'] },
        { op: 'push', key: 'fresh', items: ['{"a":1}'] },
      ],
    });
  });

  it('lets a plain write of the key after them win, and folds them into a plain write made before', () => {
    const { session, state } = loadedSession({ visits: 4, seen: [1] });
    session.increment('visits');
    session.visits = 0;
    session.seen = [];
    session.push('seen', 'a');
    delete session.gone;
    session.increment('gone');
    assert.deepEqual(state.tracker.changes(), {
      set: { visits: 0, seen: ['a'], gone: 1 },
      json: { visits: '0', seen: '["a"]', gone: '1' },
      removed: [],
    });
  });

  it('saves a pushed array that the app also changed in place whole, as a plain write', () => {
    const { session, state } = loadedSession({ seen: [{ n: 1 }] });
    const seen = session.push('seen', { n: 2 }) as Array<{ n: number }>;
    seen[0]!.n = 10;
    assert.deepEqual(state.tracker.changes(), {
      set: { seen: [{ n: 10 }, { n: 2 }] },
      json: { seen: '[{"n":10},{"n":2}]' },
      removed: [],
    });
  });

  it('carries to the next save only the calls made after a save was planned', () => {
    const { session, state } = loadedSession({ visits: 1 });
    session.increment('visits');
    session.push('seen', 'a');
    const first = state.tracker.changes();
    session.increment('visits', 10);
    session.push('seen', 'b');
    state.tracker.commit(first);
    assert.deepEqual(withoutPlan(state.tracker.changes()).ops, [
      { op: 'increment', key: 'visits', by: 10 },
      { op: 'push', key: 'seen', items: ['"b"'] },
    ]);
    state.tracker.commit(state.tracker.changes());
    assert.deepEqual(state.tracker.changes(), { set: {}, json: {}, removed: [] });
    session.visits = 12;
    assert.deepEqual(
      state.tracker.changes().set,
      { visits: 12 },
      'saved though it is the value this request counted',
    );
  });

  it('plans each call into one save only: a save planned while another is under way carries only later calls', () => {
    const { session, state } = loadedSession({ visits: 1 });
    session.increment('visits');
    session.push('seen', 'a');
    const first = state.tracker.changes();
    session.increment('visits', 2);
    const second = state.tracker.changes();
    assert.deepEqual(
      [first.ops, second.ops],
      [
        [
          { op: 'increment', key: 'visits', by: 1 },
          { op: 'push', key: 'seen', items: ['"a"'] },
        ],
        [{ op: 'increment', key: 'visits', by: 2 }],
      ],
    );
    state.tracker.commit(second);
    state.tracker.commit(first);
    assert.deepEqual(state.tracker.changes(), { set: {}, json: {}, removed: [] });
  });

  it('writes a total or an array plainly where they start from an adopted default the store does not hold', () => {
    const tracker = new ChangeTracker();
    tracker.adopt('zero', 0);
    tracker.adopt('ten', 10);
    tracker.adopt('empty', [] as string[]);
    tracker.adopt('listed', ['a']);
    tracker.increment('zero', 1);
    tracker.increment('ten', 1);
    tracker.push('empty', 'x');
    tracker.push('listed', 'b');
    const { planned: _planned, ...changes } = tracker.changes();
    assert.deepEqual(changes, {
      set: { ten: 11, listed: ['a', 'b'] },
      json: { ten: '11', listed: '["a","b"]' },
      removed: [],
      ops: [
        { op: 'increment', key: 'zero', by: 1 },
        { op: 'push', key: 'empty', items: ['"x"'] },
      ],
    });
  });

  it('refuses amounts and totals that are not finite numbers, and keys of other types', () => {
    const { session } = loadedSession({ name: 'Sharon', huge: 1e308 });
    assert.throws(() => session.increment('n', Number.NaN), /needs a finite number/);
    assert.throws(() => session.increment('huge', 1e308), /cannot be incremented/);
    assert.throws(() => session.increment('name'), /holds a string/);
    assert.throws(() => session.push('name', 1), /not an array/);
    assert.throws(() => session.push('list', () => 1), /holds a function/);
    assert.throws(() => session.increment('save'), /reserved name/);
  });
});
