import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import signature from 'cookie-signature';
import { SessionCookie } from '../src';
import { signSessionId, unsignSessionId } from '../src/session/cookie';
import { generateSessionId } from '../src/session/ids';

describe('the session cookie', () => {
  it('is signed exactly as express-session signs it', () => {
    const secret = 'keyboard cat';
    assert.equal(signSessionId('abc', secret), `s:${signature.sign('abc', secret)}`);
  });

  it('unsigns with any secret of the rotation and says when it needs re-signing', () => {
    const signed = signSessionId('the-id', 'old');
    assert.deepEqual(unsignSessionId(signed, ['new', 'old']), {
      id: 'the-id',
      signedWithCurrentSecret: false,
    });
    assert.deepEqual(unsignSessionId(signed, ['old']), { id: 'the-id', signedWithCurrentSecret: true });
  });

  it('refuses unsigned, forged, truncated and empty values', () => {
    const signed = signSessionId('the-id', 'secret');
    for (const bad of [
      'the-id',
      's:the-id',
      signed.slice(0, -1),
      `${signed}x`,
      's:.sig',
      '',
      's:other.' + signed.split('.')[1],
    ]) {
      assert.equal(unsignSessionId(bad, ['secret']), undefined, bad);
    }
  });

  it('remembers a verified value only for the secrets that verified it, and never a forgery', () => {
    const signed = signSessionId('the-id', 'old');
    const rotated = ['new', 'old'];
    const before = ['old'];
    assert.deepEqual(unsignSessionId(signed, before), { id: 'the-id', signedWithCurrentSecret: true });
    assert.deepEqual(unsignSessionId(signed, before), { id: 'the-id', signedWithCurrentSecret: true });
    // another app, or the same one after a rotation: its own secrets decide, not what was seen before
    assert.equal(unsignSessionId(signed, ['another']), undefined);
    assert.deepEqual(unsignSessionId(signed, rotated), { id: 'the-id', signedWithCurrentSecret: false });
    const forged = 's:the-id.' + signSessionId('the-id', 'attacker').split('.')[1];
    for (let attempt = 0; attempt < 3; attempt += 1) assert.equal(unsignSessionId(forged, before), undefined);
    // more values than it keeps: each is still checked, and verified again once forgotten
    for (let index = 0; index < 3000; index += 1) {
      const id = `id-${index}`;
      assert.equal(unsignSessionId(signSessionId(id, 'old'), before)?.id, id);
    }
    assert.equal(unsignSessionId(signed, before)?.id, 'the-id');
  });

  it('behaves like express-session’s Cookie: maxAge counts down from expires', () => {
    const cookie = new SessionCookie({ maxAge: 60_000 });
    assert.equal(cookie.originalMaxAge, 60_000);
    assert.ok(cookie.maxAge! <= 60_000 && cookie.maxAge! > 59_000);
    cookie.maxAge = 1000;
    assert.ok(cookie.expires!.valueOf() <= Date.now() + 1000);
    assert.equal(new SessionCookie().maxAge, null);
    assert.equal(new SessionCookie().expires, null);
  });

  it('serializes its attributes, Secure only where asked or on https with secure auto', () => {
    const cookie = new SessionCookie({ domain: 'example.com', sameSite: 'strict' });
    assert.equal(
      cookie.serialize('sid', 'v', false),
      'sid=v; Domain=example.com; Path=/; HttpOnly; SameSite=Strict',
    );
    assert.match(cookie.serialize('sid', 'v', true), /; Secure/);
    assert.deepEqual(new SessionCookie({ maxAge: 1000 }).toJSON().originalMaxAge, 1000);
  });
});

describe('session ids', () => {
  it('are 256 random bits each, base64url, never drawn twice (across refills of the random pool)', () => {
    const ids = Array.from({ length: 1000 }, () => generateSessionId());
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(new Set(ids).size, ids.length);
  });
});
