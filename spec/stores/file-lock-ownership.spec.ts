import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { SessionOptions } from '../../src';
import { sessionCookieOf } from '../helpers/app';
import { plantDeadOwnersLock } from '../helpers/file-locks';
import { startServerChild } from '../helpers/processes';
import { sessionIdOfCookie } from '../helpers/session-ids';
import { temporaryDirectory, testSecret } from '../helpers/stores';

/** One PUT of a session key; resolves to the response's status. */
async function put(url: string, cookie: string, key: string, value: unknown, delay = 0): Promise<number> {
  const response = await fetch(`${url}/keys/${key}?delay=${delay}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ value }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function sessionData(url: string, cookie: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/session`, { headers: { cookie } });
  assert.equal(response.status, 200, 'the session is read back');
  return ((await response.json()) as { data: Record<string, unknown> }).data;
}

/** A new session made through `url`: its cookie pair. */
async function newSession(url: string): Promise<string> {
  const response = await fetch(`${url}/keys/user`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: 'Sharon' }),
  });
  assert.equal(response.status, 200);
  return sessionCookieOf({ headers: { 'set-cookie': response.headers.getSetCookie() } })!;
}

const takeoverRounds = 100;
const takeoverBudgetMs = 25_000;

describe('the file store’s lock when its owner has died', () => {
  it(`is taken over by one of four racing processes at a time: no acknowledged save is lost in ${takeoverRounds} rounds`, async (context) => {
    const directory = temporaryDirectory('lock-takeover');
    const options: SessionOptions = { secret: testSecret, driver: 'file', file: { directory } };
    const servers = await Promise.all(Array.from({ length: 4 }, () => startServerChild(options)));
    const cookie = await newSession(servers[0]!.url);
    const sessionId = sessionIdOfCookie(cookie);

    const stopAt = Date.now() + takeoverBudgetMs;
    let rounds = 0;
    let acknowledged = 0;
    for (let round = 0; round < takeoverRounds && Date.now() < stopAt; round += 1) {
      plantDeadOwnersLock(directory, sessionId);
      const keys = servers.map((_, index) => `round${round}process${index}`);
      const statuses = await Promise.all(
        servers.map((server, index) => put(server.url, cookie, keys[index]!, round)),
      );
      const data = await sessionData(servers[round % servers.length]!.url, cookie);
      const saved = keys.filter((_, index) => statuses[index] === 200);
      acknowledged += saved.length;
      rounds += 1;
      const lost = saved.filter((key) => data[key] !== round);
      assert.deepEqual(
        lost,
        [],
        `round ${round}: saves answered 200 and then lost (two processes held the lock at once); statuses ${statuses.join(', ')}`,
      );
      assert.equal(data.user, 'Sharon', `round ${round}: the session's first key stays`);
    }
    context.diagnostic(`${acknowledged} acknowledged saves over ${rounds} rounds`);
    assert.ok(acknowledged > rounds, 'most saves are acknowledged');
  });
});

/** The options unshare needs: a PID namespace of its own with its own /proc, its process killed with unshare. */
const unshareArguments = ['--pid', '--fork', '--mount-proc', '--kill-child'];

function pidNamespacesUnavailable(): string | false {
  const trial = spawnSync('unshare', [...unshareArguments, 'true'], { stdio: 'ignore' });
  if (trial.error) return `unshare cannot be run here (${trial.error.message})`;
  if (trial.status !== 0) return 'unshare --pid --fork --mount-proc is not allowed here (needs root)';
  return false;
}

/**
 * The test app in a PID namespace of its own, as in a container of its own, started by a shell (pid 1 there)
 * with `pid` as its own pid inside it. Killed when the file's tests end.
 */
async function startServerInPidNamespace(options: SessionOptions, pid: number): Promise<string> {
  const launch = (node: string, script: string) => [
    'unshare',
    ...unshareArguments,
    'sh',
    '-c',
    `echo ${pid - 1} > /proc/sys/kernel/ns_last_pid && "$0" "$1"; exit 0`,
    node,
    script,
  ];
  return (await startServerChild(options, 'session-server', launch)).url;
}

const namespaceRounds = 5;

describe('the file store’s lock shared by processes in different PID namespaces (two containers on one volume)', () => {
  it(
    `is held by one process at a time: 50 concurrent disjoint writes spread over both all stay, ${namespaceRounds} times`,
    { skip: pidNamespacesUnavailable() },
    async () => {
      const directory = temporaryDirectory('lock-namespaces');
      // a session of some 450 KB, so that each save holds the lock for a few milliseconds
      const options: SessionOptions = {
        secret: testSecret,
        driver: 'file',
        file: { directory },
        maxSize: 1_000_000,
      };
      // each app runs under a shell, as in a container with an init: its pid (500, 1000) is unknown in the
      // other's namespace, where it names no process
      const [first, second] = await Promise.all([
        startServerInPidNamespace(options, 500),
        startServerInPidNamespace(options, 1000),
      ]);
      const cookie = await newSession(first);
      for (let index = 0; index < 5; index += 1) {
        assert.equal(await put(first, cookie, `large${index}`, 'x'.repeat(90_000)), 200);
      }
      assert.equal((await sessionData(second, cookie)).user, 'Sharon');

      for (let round = 0; round < namespaceRounds; round += 1) {
        const keys = Array.from({ length: 50 }, (_, index) => `round${round}key${index}`);
        const statuses = await Promise.all(
          keys.map((key, index) => put(index % 2 ? first : second, cookie, key, index, index % 7)),
        );
        assert.deepEqual(
          statuses.filter((status) => status !== 200),
          [],
          `round ${round}: every write is acknowledged`,
        );
        const data = await sessionData(second, cookie);
        const lost = keys.filter((key, index) => data[key] !== index);
        assert.deepEqual(lost, [], `round ${round}: ${lost.length} of 50 acknowledged writes lost`);
        assert.equal(data.user, 'Sharon');
      }
    },
  );
});
