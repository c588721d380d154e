const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Tries to take a lock until it is taken or `deadline` (ms since epoch) passes, pausing a little longer after
 * each failed attempt (2 ms, then up to 20 ms).
 */
export async function takeWithBackOff(
  tryTake: () => Promise<boolean>,
  deadline: number,
  timeoutMessage: () => string,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    if (await tryTake()) return;
    if (Date.now() >= deadline) throw new Error(timeoutMessage());
    await pause(Math.min(2 + attempt, 20));
  }
}
