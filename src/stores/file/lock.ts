import { symlink as symlinkThen, unlink as unlinkThen } from 'node:fs';
import { link, lstat, readFile, readlink, symlink, unlink, writeFile } from 'node:fs/promises';
import { takeWithBackOff } from '../../store/back-off';
import { liveTokens, newOwnerToken, ownerIsGone } from './owner';

/** How a lock file is made: a symbolic link, a hard link to a written file, or an exclusively created file. */
type LockWay = 'symlink' | 'link' | 'exclusive-file';

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** The filesystem refuses this way of making a lock (FAT and exFAT have neither kind of link). */
function isRefused(error: unknown): boolean {
  return ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL'].includes(codeOf(error) ?? '');
}

export interface FileLockOptions {
  /** A lock whose owner cannot be checked is taken over once older than this. */
  staleLockMs: number;
  /** How long taking a lock may wait. */
  lockTimeoutMs: number;
}

/**
 * Locks shared by every process on one folder, each a file `<name>.lock` that holds its owner's token.
 *
 * - Taking a lock is one exclusive create: a symbolic link whose target is the token (atomic, so a process
 *   killed at any point leaves no lock or a whole one); where links are refused, a written file hard-linked
 *   into place; where that is refused too (FAT), a file created exclusively and then written.
 * - A lock is stale when its owner is known to be gone (same pid space, pid not running) or, when that cannot
 *   be known (another container on a shared volume), once it is older than staleLockMs.
 * - Only the holder of the claim `<lock>-<token>` (an exclusive create) may remove the lock holding that
 *   token, and only after reading it again: so three processes racing for a dead owner's lock, or an owner
 *   releasing a lock it held too long, never remove a lock someone else has just taken.
 */
export class FileLocks {
  private way: LockWay = 'symlink';
  private readonly held = new Map<string, { token: string; since: number }>();

  constructor(private readonly options: FileLockOptions) {}

  /**
   * Takes the lock at `lockPath`, waiting until `deadline` at the most; `then` gets null once it is held, or the
   * error. A free lock is taken by one `symlink` call and no promise; a held one, or another way, waits in `waitFor`.
   */
  acquire(lockPath: string, tempPath: () => string, deadline: number, then: (error: unknown) => void): void {
    const token = newOwnerToken();
    liveTokens.add(token);
    const taken = () => {
      this.held.set(lockPath, { token, since: performance.now() });
      then(null);
    };
    const failed = (error: unknown) => {
      liveTokens.delete(token);
      then(error);
    };
    if (this.way !== 'symlink') {
      this.waitFor(lockPath, token, tempPath, deadline, true).then(taken, failed);
      return;
    }
    symlinkThen(token, lockPath, (error) => {
      if (!error) return taken();
      // held by another owner: the first attempt was this one; anything else is tried again, and reported there
      const triedFirst = codeOf(error) === 'EEXIST';
      this.waitFor(lockPath, token, tempPath, deadline, !triedFirst).then(taken, failed);
    });
  }

  private waitFor(
    lockPath: string,
    token: string,
    tempPath: () => string,
    deadline: number,
    takeFirst: boolean,
  ): Promise<void> {
    let take = takeFirst;
    return takeWithBackOff(
      async () => {
        const taken = take && (await this.tryTake(lockPath, token, tempPath));
        take = true;
        return taken || (await this.breakIfStale(lockPath));
      },
      deadline,
      () => `the session lock ${lockPath} was not released within ${this.options.lockTimeoutMs} ms`,
    );
  }

  /** Releases a lock this process holds; a lock someone took over meanwhile is left to its new owner. */
  release(lockPath: string, then: (error: unknown) => void): void {
    const held = this.held.get(lockPath);
    if (!held) return then(null);
    this.held.delete(lockPath);
    const released = (error: unknown) => {
      liveTokens.delete(held.token);
      then(codeOf(error) === 'ENOENT' ? null : error);
    };
    // nobody can have judged a young lock of a live owner stale: remove it at once
    if (performance.now() - held.since < this.options.staleLockMs / 2) unlinkThen(lockPath, released);
    else this.removeHolding(lockPath, held.token).then(() => released(null), released);
  }

  /** One attempt: true when taken, false when another owner holds the lock. */
  private async tryTake(lockPath: string, token: string, tempPath: () => string): Promise<boolean> {
    try {
      await this.create(lockPath, token, tempPath);
      return true;
    } catch (error) {
      if (codeOf(error) === 'EEXIST') return false;
      if (!isRefused(error) || this.way === 'exclusive-file') throw error;
      this.way = this.way === 'symlink' ? 'link' : 'exclusive-file';
      return this.tryTake(lockPath, token, tempPath);
    }
  }

  private async create(lockPath: string, token: string, tempPath: () => string): Promise<void> {
    if (this.way === 'symlink') return symlink(token, lockPath);
    if (this.way === 'exclusive-file') return writeFile(lockPath, token, { flag: 'wx', mode: 0o600 });
    const written = tempPath();
    try {
      await writeFile(written, token, { mode: 0o600 });
      await link(written, lockPath);
    } finally {
      await unlink(written).catch(() => undefined);
    }
  }

  /** The token a lock holds; '' for a lock file its creator did not get to write; undefined when there is none. */
  private async tokenAt(lockPath: string): Promise<string | undefined> {
    try {
      return await readlink(lockPath);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
    }
    return readFile(lockPath, 'utf8').catch((error: unknown) => {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    });
  }

  private async ageOf(path: string): Promise<number> {
    try {
      return Date.now() - (await lstat(path)).mtimeMs;
    } catch {
      return 0;
    }
  }

  private async isStale(lockPath: string, token: string): Promise<boolean> {
    const gone = ownerIsGone(token);
    if (gone !== undefined) return gone;
    return (await this.ageOf(lockPath)) > this.options.staleLockMs;
  }

  /** Removes a lock left by an owner that is gone (a crashed process); true when it did. */
  async removeIfStale(lockPath: string): Promise<boolean> {
    await this.breakIfStale(lockPath);
    return (await this.tokenAt(lockPath)) === undefined;
  }

  /** Removes a claim its holder left when it was killed; claims are held for a moment only. */
  async removeIfStaleClaim(claimPath: string): Promise<boolean> {
    if ((await this.ageOf(claimPath)) <= this.options.staleLockMs) return false;
    await unlink(claimPath).catch(() => undefined);
    return true;
  }

  /** Removes the lock if its owner is gone (as its claim's holder); false: the lock is still to be taken. */
  private async breakIfStale(lockPath: string): Promise<boolean> {
    const token = await this.tokenAt(lockPath);
    if (token === undefined || !(await this.isStale(lockPath, token))) return false;
    await this.removeHolding(lockPath, token);
    return false;
  }

  /** Removes the lock at `lockPath` if it still holds `token`, holding that token's claim meanwhile. */
  private async removeHolding(lockPath: string, token: string): Promise<void> {
    const claimPath = `${lockPath}-${token || 'unwritten'}`;
    try {
      await writeFile(claimPath, '', { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
      // a claimer killed before it finished leaves its claim: it is stale after the same time as a lock
      if ((await this.ageOf(claimPath)) > this.options.staleLockMs)
        await unlink(claimPath).catch(() => undefined);
      return;
    }
    try {
      if ((await this.tokenAt(lockPath)) === token) await unlink(lockPath);
    } finally {
      await unlink(claimPath).catch(() => undefined);
    }
  }
}
