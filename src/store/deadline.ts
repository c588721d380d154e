/** A call that fails at its deadline unless it settled first (and was then taken off with `settled`). */
export interface PendingCall {
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
    watchDeadline(call);
    operation.then(
      (value) => {
        settled(call);
        resolve(value);
      },
      (error: unknown) => {
        settled(call);
        reject(error);
      },
    );
  });
}

/** Has `call` failed at its deadline, to within 50 ms, on the timer `withDeadline` shares. */
export function watchDeadline(call: PendingCall): void {
  pendingCalls.add(call);
  sweeper ??= setInterval(sweep, sweepIntervalMs).unref();
}

/** Whether `call` is still waited for: neither settled nor failed by its deadline. */
export function stillPending(call: PendingCall): boolean {
  return pendingCalls.has(call);
}

/** Takes `call` off the watch: false when its deadline had failed it already. */
export function settled(call: PendingCall): boolean {
  return pendingCalls.delete(call);
}
