import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { storeKeyOf } from '../../src/session/ids';

/** The owner token of a process that has exited: a lock naming it was left by a crashed owner. */
export function deadOwnerToken(): string {
  const owner = join(__dirname, '..', '..', 'src', 'stores', 'file', 'owner.js');
  const print = `process.stdout.write(require(${JSON.stringify(owner)}).newOwnerToken())`;
  return execFileSync(process.execPath, ['-e', print], { encoding: 'utf8' });
}

/** The lock file of a store key: `<sha256 hex of the key>.lock` beside the session's `.json` file. */
export function lockPathOf(directory: string, storeKey: string): string {
  return join(directory, `${createHash('sha256').update(storeKey).digest('hex')}.lock`);
}

/**
 * Leaves on `directory` the lock a crashed owner would have left on session `sessionId`: the one place that
 * knows how the file store lays its lock out on disk. The lock is a symbolic link whose target is the owner's
 * token (`<pid space>.<pid>.<random>`), the owner here being a process that has exited.
 */
export function plantDeadOwnersLock(directory: string, sessionId: string, token = deadOwnerToken()): string {
  const lockPath = lockPathOf(directory, storeKeyOf(sessionId));
  lstatSync(lockPath.replace(/\.lock$/, '.json')); // the session is stored where the lock is planted
  symlinkSync(token, lockPath);
  return lockPath;
}
