/**
 * The lean reference (issue 17): our design with the least work per request, as a yardstick for ours. A bench
 * server only, never exported. The same cookie as ours (`sid`, `s:<id>.<HMAC-SHA256>`, so the bench's login
 * cookies work alike), the store key = SHA-256 of the id, each data key kept as its JSON and compared at the
 * end, the save applied before the headers leave (inside `res.end()`), Set-Cookie only for a new session,
 * nothing stored until something is put in the session, and the idle expiry renewed at most once a minute.
 * Left out on purpose: options, regenerate/destroy/reload, flash, schemas, the user index, store deadlines,
 * cookie rotation, absolute expiry. A response that sends its headers before `end()` (a `write()`) gets no
 * cookie for a new session. Every key is parsed at load and compared at the end (ours compares only the keys
 * it handed out to the app): on a large session, workload (e), the reference does more work than ours.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';

export interface LeanMeta {
  createdAt: number;
  lastSeenAt: number;
}

/** A stored session: each data key as its JSON. A store never changes one it handed out (it stores a new one). */
export interface LeanRecord {
  fields: ReadonlyMap<string, string>;
  meta: LeanMeta;
}

export interface LeanChange {
  /** Key, JSON, key, JSON… */
  set: string[];
  removed: string[];
  meta: LeanMeta;
  /** Whether the session may be created; a change to a session removed meanwhile is dropped. */
  create: boolean;
}

/** In-process stores answer synchronously, others with a promise. */
export interface LeanStore {
  read(key: string): LeanRecord | undefined | Promise<LeanRecord | undefined>;
  apply(key: string, change: LeanChange, expiresAt: number): void | Promise<void>;
}

export const idleTimeoutMs = 2 * 60 * 60 * 1000;
const touchIntervalMs = 60_000;
const cookieName = 'sid';
const slot = Symbol('lean session');

interface LeanState {
  /** Undefined for a new session: its id is drawn when it is first saved. */
  key: string | undefined;
  record: LeanRecord | undefined;
  data: Record<string, unknown>;
  ended: boolean;
}

type WithState = Request & { [slot]?: LeanState };

function signature(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
}

const storeKeyOf = (id: string) => createHash('sha256').update(id).digest('base64url');

/** The raw value of the `sid` cookie in a Cookie header. */
function cookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const start = header.startsWith(`${cookieName}=`) ? 0 : header.indexOf(`; ${cookieName}=`) + 2;
  if (start === 1) return undefined;
  const end = header.indexOf(';', start);
  const raw = header.slice(start + cookieName.length + 1, end === -1 ? undefined : end);
  try {
    return raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return undefined;
  }
}

function unsign(value: string, secret: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (!value.startsWith('s:') || dot <= 2) return undefined;
  const id = value.slice(2, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const expected = Buffer.from(signature(id, secret));
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : undefined;
}

function stateOf(request: WithState): LeanState {
  return (request[slot] ??= { key: undefined, record: undefined, data: {}, ended: false });
}

function attach(request: WithState, key: string, record: LeanRecord | undefined): void {
  if (!record) return; // unknown or expired: a new session, under a new id, if anything is stored
  const data: Record<string, unknown> = {};
  for (const [name, json] of record.fields) {
    if (name !== '__proto__') data[name] = JSON.parse(json);
  }
  request[slot] = { key, record, data, ended: false };
}

/** What this request changed, or undefined: nothing to write (and no idle renewal due). */
function changeOf(state: LeanState, now: number): LeanChange | undefined {
  const { data, record } = state;
  const set: string[] = [];
  const removed: string[] = [];
  for (const name in data) {
    const json = JSON.stringify(data[name]);
    const stored = record?.fields.get(name);
    if (json === undefined) {
      if (stored !== undefined) removed.push(name);
    } else if (json !== stored) set.push(name, json);
  }
  if (record) {
    for (const name of record.fields.keys()) if (!Object.hasOwn(data, name)) removed.push(name);
  }
  if (!record) {
    return set.length === 0
      ? undefined
      : { set, removed, meta: { createdAt: now, lastSeenAt: now }, create: true };
  }
  if (set.length === 0 && removed.length === 0 && now - record.meta.lastSeenAt < touchIntervalMs)
    return undefined;
  return { set, removed, meta: { createdAt: record.meta.createdAt, lastSeenAt: now }, create: false };
}

type End = (this: Response, ...args: unknown[]) => Response;

/** Hooks `end` once on the app's response prototype: per response, nothing but the request's one slot. */
function hookEnd(app: Express, store: LeanStore, secret: string): void {
  const end = app.response.end as unknown as End;
  function failed(response: Response): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.removeHeader('Content-Length');
    response.statusCode = 500;
    end.call(response, 'session store failed');
  }
  (app.response as unknown as { end: End }).end = function leanEnd(this: Response, ...args: unknown[]) {
    const state = (this.req as WithState)[slot];
    if (state === undefined || state.ended) return end.apply(this, args);
    state.ended = true;
    const change = changeOf(state, Date.now());
    if (!change) return end.apply(this, args);
    let key = state.key;
    if (key === undefined) {
      const id = randomBytes(32).toString('base64url');
      key = storeKeyOf(id);
      if (!this.headersSent) {
        const value = encodeURIComponent(`s:${id}.${signature(id, secret)}`);
        this.appendHeader('Set-Cookie', `${cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax`);
      }
    }
    const applied = store.apply(key, change, Date.now() + idleTimeoutMs);
    if (applied === undefined) return end.apply(this, args);
    applied.then(
      () => end.apply(this, args),
      () => failed(this),
    );
    return this;
  };
}

/** The middleware; `request.session` is an accessor on the app's request prototype, made on first use. */
export function leanSession(app: Express, store: LeanStore, secret: string) {
  hookEnd(app, store, secret);
  Object.defineProperty(app.request, 'session', {
    configurable: true,
    get(this: WithState) {
      return stateOf(this).data;
    },
  });
  return (request: Request, _response: Response, next: NextFunction): void => {
    const value = cookieValue(request.headers.cookie);
    const id = value === undefined ? undefined : unsign(value, secret);
    if (id === undefined) return next();
    const key = storeKeyOf(id);
    const read = store.read(key);
    if (!(read instanceof Promise)) {
      attach(request, key, read);
      return next();
    }
    read.then((record) => {
      attach(request, key, record);
      next();
    }, next);
  };
}
