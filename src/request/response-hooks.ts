import type { ServerResponse } from 'node:http';
import { holdResponse } from './response-hold';

/** Store work the end of a response waits for, and whether its failure would lose data or a removal. */
export interface EndWork {
  dataAtRisk: boolean;
  commit(): Promise<void>;
  /** Does the work at once where it can (a store in this process): true when done; throws when it failed. */
  commitNow(): boolean;
}

/** What the response hooks ask of the request's session. */
export interface SessionAtResponse {
  /** Sets the session's Set-Cookie header if the response needs one (`stored`: the session is stored); returns it. */
  applyCookie(stored: boolean): string | undefined;
  /** Whether the session is in the store (asked once its store work at the end is done, or there is none). */
  isStored(): boolean;
  /** The store work ending now needs, decided once; undefined when there is none. */
  workAtEnd(): EndWork | undefined;
  /** Answers the request with an error (or closes it when the headers are out). */
  fail(error: unknown): void;
  /** Reports an error that lost nothing, after the response. */
  reportAfterResponse(error: unknown): void;
}

type Method = (...args: unknown[]) => unknown;

/**
 * Saves before the response's headers and body leave, so that the client's next request reads this one's
 * writes. A response with no store work goes out at once, as it would without a session. Otherwise the
 * response is held from its first byte (writeHead, write or end) until the work is done: its calls are kept
 * in order and replayed (a write while held returns false, and 'drain' follows the replay, so a piped file
 * waits instead of filling memory). What fails then is answered by `fail`, with a proper status when the
 * work failed before any header left. writeHead, write and end are put back on every path.
 */
export function hookResponse(response: ServerResponse, session: SessionAtResponse): void {
  const original = {
    writeHead: response.writeHead as Method,
    write: response.write as Method,
    end: response.end as Method,
  };
  // `end` stays hooked once the response is on its way: a second call is ignored
  const unhook = () => Object.assign(response, { writeHead: original.writeHead, write: original.write });
  const unhookAll = () => Object.assign(response, original);
  /** After a failure has been answered, the app's later calls go nowhere instead of writing after the end. */
  const discardLaterCalls = () =>
    Object.assign(response, { writeHead: () => response, write: () => true, end: () => response });
  let held: Array<() => void> | undefined;
  let drainOwed = false;
  let saveFailed = false;
  let saving: Promise<unknown> | undefined;

  /** Holds the response while the store work runs, then replays the calls made meanwhile, or fails it. */
  const holdFor = ({ dataAtRisk, commit }: EndWork, resume: (saved: boolean) => void) => {
    const release = holdResponse(response);
    held = [];
    saving = commit()
      .then(
        () => undefined,
        (error: unknown) => error ?? new Error('the session could not be saved'),
      )
      .then((error) => {
        const calls = held ?? [];
        held = undefined;
        release(() => {
          saveFailed = error !== undefined;
          try {
            if (saveFailed && dataAtRisk) throw error;
            resume(!saveFailed);
            for (const call of calls) call();
          } catch (failure) {
            unhookAll();
            session.fail(failure);
            discardLaterCalls();
            return;
          }
          if (drainOwed) response.emit('drain');
          drainOwed = false;
          if (error !== undefined) session.reportAfterResponse(error);
        });
      })
      .catch((error: unknown) => session.fail(error));
  };

  /** At the first byte: hold the response if the session has store work, else let it through. */
  const firstByte = (): boolean => {
    if (saving) return false;
    const work = session.workAtEnd();
    if (!work) return false;
    // the cookie is set by the writeHead that the replay makes
    holdFor(work, () => undefined);
    return true;
  };

  /** Makes the call again when the hold is released: through these hooks, even if the app wrapped them since. */
  const later = (method: keyof typeof original, args: unknown[]) =>
    held!.push(() => hooks[method].apply(response, args));

  const hooks: Record<keyof typeof original, Method> = {
    writeHead: (...args) => {
      if (held || firstByte()) {
        later('writeHead', args);
        return response;
      }
      const header = session.applyCookie(!saveFailed && session.isStored());
      return original.writeHead.apply(
        response,
        header === undefined ? args : keepCookieInHeaders(args, header),
      );
    },

    write: (...args) => {
      if (held || (!response.headersSent && firstByte())) {
        later('write', args);
        drainOwed = true;
        return false;
      }
      return original.write.apply(response, args);
    },

    end: (...args) => {
      if (held) {
        later('end', args);
        return response;
      }
      if (response.writableEnded) return response;
      const work = session.workAtEnd();
      let failedNow: unknown;
      let doneNow = false;
      try {
        doneNow = work !== undefined && work.commitNow();
      } catch (error) {
        failedNow = error ?? new Error('the session could not be saved');
      }
      if (failedNow !== undefined) {
        holdFor({ ...work!, commit: () => Promise.reject(failedNow) }, (saved) => {
          session.applyCookie(saved && session.isStored());
          unhook();
          original.end.apply(response, args);
        });
        return response;
      }
      if (!work || doneNow) {
        try {
          session.applyCookie(!saveFailed && session.isStored());
        } finally {
          unhook();
        }
        return original.end.apply(response, args);
      }
      holdFor(work, (saved) => {
        session.applyCookie(saved && session.isStored());
        unhook();
        original.end.apply(response, args);
      });
      return response;
    },
  };
  Object.assign(response, hooks);
}

/**
 * Node lets headers given to writeHead replace the ones set before it, so a Set-Cookie given there would
 * drop the session cookie: it is added to that Set-Cookie instead (headers as an object or a flat array).
 */
export function keepCookieInHeaders(args: unknown[], cookie: string): unknown[] {
  const index = typeof args[1] === 'string' ? 2 : 1;
  const headers = args[index];
  const isSetCookie = (name: unknown) => typeof name === 'string' && name.toLowerCase() === 'set-cookie';
  const withCookie = (given: unknown) => [...(Array.isArray(given) ? given : [String(given)]), cookie];
  const copy = [...args];
  if (Array.isArray(headers)) {
    // One Set-Cookie pair holding every value: Node 20 keeps only the last of repeated Set-Cookie pairs.
    const position = headers.findIndex((name, at) => at % 2 === 0 && isSetCookie(name));
    if (position === -1) return args;
    copy[index] = headers.map((item: unknown, at) => (at === position + 1 ? withCookie(item) : item));
    return copy;
  }
  if (typeof headers !== 'object' || headers === null) return args;
  const name = Object.keys(headers).find(isSetCookie);
  if (name === undefined) return args;
  copy[index] = { ...headers, [name]: withCookie((headers as Record<string, unknown>)[name]) };
  return copy;
}
