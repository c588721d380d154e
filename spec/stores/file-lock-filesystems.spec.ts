import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SessionOptions } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { startServerChild } from '../helpers/processes';
import { temporaryDirectory, testSecret } from '../helpers/stores';

const saves = 6;

/** PUT one key; resolves to the status and the cookie pair to go on with. */
async function put(url: string, cookie: string | undefined, key: string, value: number) {
  const response = await fetch(`${url}/keys/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ value }),
  });
  await response.arrayBuffer();
  const set = sessionCookieOf({ headers: { 'set-cookie': response.headers.getSetCookie() } });
  return { status: response.status, cookie: set ?? cookie };
}

/** One session saved `saves` times in a row through `url`: every save answered 200, every key kept. */
async function savesInARow(url: string): Promise<void> {
  let cookie: string | undefined;
  const statuses: number[] = [];
  for (let index = 0; index < saves; index += 1) {
    const answer = await put(url, cookie, `key${index}`, index);
    statuses.push(answer.status);
    cookie = answer.cookie;
  }
  assert.deepEqual(
    statuses,
    Array.from({ length: saves }, () => 200),
    'every save is answered 200',
  );
  const response = await fetch(`${url}/session`, { headers: { cookie: cookie! } });
  const { data } = (await response.json()) as { data: Record<string, number> };
  assert.deepEqual(
    data,
    Object.fromEntries(Array.from({ length: saves }, (_, index) => [`key${index}`, index])),
  );
}

const exfatTools = ['mkfs.exfat', 'mount.exfat-fuse', 'losetup', 'umount'];

/** Why a real exFAT (FUSE, on a loop device) cannot be mounted here; false when it can. */
function exfatUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'mounting a loop device needs root';
  const missing = exfatTools.filter((tool) => spawnSync('which', [tool]).status !== 0);
  if (missing.length > 0)
    return `${missing.join(', ')} not installed (apt-get install exfat-fuse exfatprogs)`;
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  try {
    mountExfat(temporaryDirectory('exfat-probe')).unmount();
  } catch (error) {
    return `an exFAT image cannot be mounted here: ${(error as Error).message.split('\n')[0]}`;
  }
  return false;
}

/** A 32 MB exFAT image in `workDirectory`, mounted (exfat-fuse on a loop device) at its `mount` folder. */
function mountExfat(workDirectory: string): { directory: string; unmount(): void } {
  const image = join(workDirectory, 'exfat.img');
  const directory = join(workDirectory, 'mount');
  mkdirSync(directory);
  execFileSync('truncate', ['-s', '32M', image]);
  execFileSync('mkfs.exfat', [image], { stdio: 'ignore' });
  const loop = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
  try {
    execFileSync('mount.exfat-fuse', [loop, directory], { stdio: 'pipe' });
  } catch (error) {
    execFileSync('losetup', ['-d', loop]);
    throw error;
  }
  return {
    directory,
    unmount: () => {
      execFileSync('umount', [directory]);
      execFileSync('losetup', ['-d', loop]);
    },
  };
}

describe('the file store on a filesystem with neither symbolic nor hard links (FAT, exFAT)', () => {
  it(
    `answers 200 to ${saves} saves in a row of one session on a real exFAT, and keeps its data`,
    { skip: exfatUnavailable() },
    async () => {
      const exfat = mountExfat(temporaryDirectory('exfat'));
      const server = await startServerChild({
        secret: testSecret,
        driver: 'file',
        file: { directory: join(exfat.directory, 'sessions') },
      } satisfies SessionOptions);
      try {
        await savesInARow(server.url);
      } finally {
        server.child.kill('SIGKILL');
        await once(server.child, 'exit');
        exfat.unmount();
      }
    },
  );

  it(`answers 200 to ${saves} saves in a row of one session where both kinds of link are refused (EPERM)`, async () => {
    const server = await startServerChild(
      { secret: testSecret, driver: 'file', file: { directory: temporaryDirectory('no-links') } },
      'links-refused-server',
    );
    await savesInARow(server.url);
  });
});
