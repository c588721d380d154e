import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker } from '../src/session/change-tracker';
import { cookieDecisionOf } from '../src/request/cookie-decision';
import type { CookieFacts } from '../src/request/cookie-decision';
import { saveReasonOf } from '../src/request/save-decision';
import type { SaveFacts } from '../src/request/save-decision';

const storedUnchanged: SaveFacts = {
  explicit: false,
  changed: false,
  anonymous: false,
  idIsString: true,
  regenerated: false,
  stored: true,
  savedAlready: false,
  touched: false,
  touchDue: false,
  saveUninitialized: false,
  resave: false,
};

describe('the save decision', () => {
  it('writes an unchanged stored session only for resave, touch() or a due idle renewal', () => {
    assert.equal(saveReasonOf(storedUnchanged), undefined);
    assert.equal(saveReasonOf({ ...storedUnchanged, resave: true }), 'resave');
    assert.equal(saveReasonOf({ ...storedUnchanged, touched: true }), 'touched');
    assert.equal(saveReasonOf({ ...storedUnchanged, touchDue: true }), 'idle');
  });

  it('writes a changed session, a regenerated one, and a new one only when changed or saveUninitialized', () => {
    assert.equal(saveReasonOf({ ...storedUnchanged, changed: true }), 'changed');
    assert.equal(saveReasonOf({ ...storedUnchanged, stored: false, regenerated: true }), 'regenerated');
    assert.equal(saveReasonOf({ ...storedUnchanged, stored: false }), undefined);
    assert.equal(
      saveReasonOf({ ...storedUnchanged, stored: false, saveUninitialized: true }),
      'uninitialized',
    );
  });

  it('after a save in the same request, writes again only what changed since; save() always writes', () => {
    const savedOnce = { ...storedUnchanged, savedAlready: true, touchDue: true, resave: true };
    assert.equal(saveReasonOf(savedOnce), undefined);
    assert.equal(saveReasonOf({ ...savedOnce, changed: true }), 'changed');
    assert.equal(saveReasonOf({ ...savedOnce, explicit: true }), 'explicit');
  });

  it('never writes an anonymous session, or one whose request.sessionID the app replaced by a non-string', () => {
    const everything = { ...storedUnchanged, explicit: true, changed: true };
    assert.equal(saveReasonOf({ ...everything, anonymous: true }), undefined);
    assert.equal(saveReasonOf({ ...everything, idIsString: false }), undefined);
  });
});

const unchangedCookie: CookieFacts = {
  idIsString: true,
  secureOnly: false,
  secureRequest: false,
  storedAndKept: true,
  idChanged: false,
  resign: false,
  rolling: false,
  persistent: false,
  wroteChanges: false,
  destroyedFromCookie: false,
};

describe('the cookie decision', () => {
  it('sends the cookie for a new id, a retired secret, rolling, or a persistent cookie whose session changed', () => {
    assert.equal(cookieDecisionOf(unchangedCookie), undefined);
    assert.equal(cookieDecisionOf({ ...unchangedCookie, idChanged: true }), 'session');
    assert.equal(cookieDecisionOf({ ...unchangedCookie, resign: true }), 'session');
    assert.equal(cookieDecisionOf({ ...unchangedCookie, rolling: true }), 'session');
    assert.equal(cookieDecisionOf({ ...unchangedCookie, wroteChanges: true }), undefined);
    assert.equal(cookieDecisionOf({ ...unchangedCookie, wroteChanges: true, persistent: true }), 'session');
  });

  it('clears the cookie of a destroyed session, and sends nothing for a session that is not stored', () => {
    const notStored = { ...unchangedCookie, storedAndKept: false, idChanged: true };
    assert.equal(cookieDecisionOf(notStored), undefined);
    assert.equal(cookieDecisionOf({ ...notStored, destroyedFromCookie: true }), 'clear');
  });

  it('sends no Secure cookie over plain http, and none when request.sessionID is not a string', () => {
    const due = { ...unchangedCookie, idChanged: true };
    assert.equal(cookieDecisionOf({ ...due, secureOnly: true }), undefined);
    assert.equal(cookieDecisionOf({ ...due, secureOnly: true, secureRequest: true }), 'session');
    assert.equal(cookieDecisionOf({ ...due, idIsString: false }), undefined);
  });
});

describe('the size of session data', () => {
  it('is the byte length of its JSON, from the stored JSON of each key where known', () => {
    const tracker = new ChangeTracker();
    const data = { name: 'Zoë', list: [1, 2], nested: { deep: '✓' } };
    tracker.reset(data, new Map([['list', '[1,2]']]));
    assert.equal(tracker.byteLength(new Map([['list', '[1,2]']])), Buffer.byteLength(JSON.stringify(data)));
    tracker.reset({});
    assert.equal(tracker.byteLength(new Map()), 2);
  });
});
