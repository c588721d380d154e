import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { sha256 } from '../../session/ids';

function readOr(read: () => string, fallback: string): string {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
}

/**
 * Which pids this process can check with `kill(pid, 0)`: the same boot of the same machine and the same PID
 * namespace. Containers sharing one folder differ here, so each treats the other's pids as unknown.
 */
const pidSpace = sha256(
  [
    hostname(),
    readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'), ''),
    readOr(() => readlinkSync('/proc/self/ns/pid'), ''),
  ].join('|'),
  'hex',
).slice(0, 12);

const processPrefix = `${pidSpace}.${process.pid}.${randomBytes(6).toString('hex')}`;
let owners = 0;

/** A name unique to one owner: `<pid space>.<pid>.<random of this process>-<count>` (characters a file name may hold). */
export function newOwnerToken(): string {
  owners += 1;
  return `${processPrefix}-${owners.toString(36)}`;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's own token (its temp files name it), and the lock tokens it holds now. */
export const processToken = newOwnerToken();
export const liveTokens = new Set<string>([processToken]);

/**
 * True when the owner named by a token (or a temp file's name) is known to be gone: a process of this pid space
 * that no longer runs. Undefined when that cannot be known (another container or machine, or no token): the
 * caller then goes by age.
 */
export function ownerIsGone(token: string): boolean | undefined {
  const [space, pidText] = token.split('.');
  const pid = Number(pidText);
  if (space !== pidSpace || !(pid > 0)) return undefined;
  if (pid === process.pid) return !liveTokens.has(token);
  return !isRunning(pid);
}
