interface PendingCall {
  deadline: number;
  fail: () => void;
}

const pendingCalls = new Set<PendingCall>();
let sweeper: NodeJS.Timeout | undefined;
const sweepIntervalMs = 50;

function sweep(): void {
  const now = Date.now();
  const late: PendingCall[] = [];
  for (const call of pendingCalls) if (call.deadline <= now) late.push(call);
  // After the event loop was blocked, timers run before the I/O that came meanwhile: an answer may be waiting
  // in a socket already. It is read before setImmediate's callbacks run, and then the call is no longer pending.
  if (late.length > 0) {
    setImmediate(() => {
      for (const call of late) {
        if (pendingCalls.delete(call)) call.fail();
      }
    });
  }
  if (pendingCalls.size === late.length) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * Settles like `operation`, or rejects with `timeoutMessage()` once `milliseconds` have passed (to within
 * 50 ms). One shared timer checks every pending call, instead of a timer per store operation.
 */
export function withDeadline<T>(
  operation: Promise<T>,
  milliseconds: number,
  timeoutMessage: () => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const call: PendingCall = {
      deadline: Date.now() + milliseconds,
      fail: () => reject(new Error(timeoutMessage())),
    };
    pendingCalls.add(call);
    sweeper ??= setInterval(sweep, sweepIntervalMs).unref();
    operation.then(
      (value) => {
        pendingCalls.delete(call);
        resolve(value);
      },
      (error: unknown) => {
        pendingCalls.delete(call);
        reject(error);
      },
    );
  });
}
