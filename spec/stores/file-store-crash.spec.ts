import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServerChild } from '../helpers/processes';
import { temporaryDirectory, testSecret } from '../helpers/stores';

const rounds = 10;
const sessionsPerRound = 4;

async function put(
  url: string,
  cookie: string | undefined,
  key: string,
  value: number,
): Promise<string | undefined> {
  const response = await fetch(`${url}/keys/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ value }),
  });
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  return response.headers.get('set-cookie')?.split(';')[0] ?? cookie;
}

describe('the file store when its process is killed mid-write', () => {
  it(`keeps every acknowledged write, only whole files and no temp files, over ${rounds} SIGKILLs`, async (context) => {
    const directory = temporaryDirectory('crash');
    const options = { secret: testSecret, driver: 'file' as const, file: { directory } };
    const acknowledged = new Map<string, Map<string, number>>();
    let sequence = 0;
    for (let round = 0; round < rounds; round += 1) {
      const server = await startServerChild(options);

      for (const [cookie, expected] of acknowledged) {
        const response = await fetch(`${server.url}/session`, { headers: { cookie } });
        const data = ((await response.json()) as { data: Record<string, number> }).data;
        for (const [key, value] of expected)
          assert.equal(data[key], value, `round ${round}: ${key} was acknowledged`);
      }
      for (const name of readdirSync(directory)) {
        assert.match(name, /^[0-9a-f]{64}\.json$/, `round ${round}: only session files remain`);
        JSON.parse(readFileSync(join(directory, name), 'utf8'));
      }

      for (let index = 0; index < sessionsPerRound; index += 1) {
        const key = `first${(sequence += 1)}`;
        const cookie = (await put(server.url, undefined, key, sequence))!;
        acknowledged.set(cookie, new Map([[key, sequence]]));
      }
      const cookies = [...acknowledged.keys()];
      let running = true;
      const writers = Array.from({ length: 6 }, async () => {
        while (running) {
          const cookie = cookies[Math.floor(Math.random() * cookies.length)]!;
          const key = `key${(sequence += 1)}`;
          const value = sequence;
          try {
            await put(server.url, cookie, key, value);
            acknowledged.get(cookie)!.set(key, value);
          } catch {
            return;
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 150));
      server.child.kill('SIGKILL');
      await once(server.child, 'exit');
      running = false;
      await Promise.all(writers);
    }
    const writes = [...acknowledged.values()].reduce((total, keys) => total + keys.size, 0);
    context.diagnostic(`${writes} acknowledged writes over ${rounds} kills`);
    assert.ok(writes > rounds * sessionsPerRound);
  });
});
