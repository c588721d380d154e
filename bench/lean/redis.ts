import { createClient } from 'redis';
import type { LeanChange, LeanMeta, LeanRecord, LeanStore } from './session';

/**
 * ARGV: create, meta JSON, expiry (ms since the epoch), number of keys set, then key/JSON pairs, then removed
 * keys. A change to a session that is gone (and not created by it) writes nothing.
 */
const applyScript = `
local key = KEYS[1]
if ARGV[1] == '0' and redis.call('EXISTS', key) == 0 then return 0 end
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', key, 'd:' .. ARGV[i])
  i = i + 1
end
redis.call('HSET', key, 'm', ARGV[2])
redis.call('PEXPIREAT', key, ARGV[3])
return 1
`;

function* pairsOf(list: string[]): Generator<[string, string]> {
  for (let index = 0; index < list.length; index += 2) yield [list[index]!, list[index + 1]!];
}

const clientOf = (url: string) => createClient({ url });
type Client = ReturnType<typeof clientOf>;

/**
 * A hash per session (`m` the meta, `d:<key>` each key's JSON, as ours): one HGETALL, one EVALSHA, both through
 * `sendCommand` (two promises a command, where the typed command methods make six), as ours sends them.
 */
export class LeanRedisStore implements LeanStore {
  private constructor(
    private readonly client: Client,
    private readonly prefix: string,
    private readonly scriptSha: string,
  ) {}

  static async connect(url: string, prefix: string): Promise<LeanRedisStore> {
    const client = clientOf(url);
    await client.connect();
    return new LeanRedisStore(client, prefix, await client.scriptLoad(applyScript));
  }

  async read(key: string): Promise<LeanRecord | undefined> {
    const reply = await this.client.sendCommand<Record<string, string> | string[]>([
      'HGETALL',
      this.prefix + key,
    ]);
    // a map under RESP3 (node-redis 6's default), field/value pairs under RESP2
    const hash = Array.isArray(reply) ? Object.fromEntries(pairsOf(reply)) : reply;
    if (hash.m === undefined) return undefined;
    const fields = new Map<string, string>();
    for (const field in hash) if (field.startsWith('d:')) fields.set(field.slice(2), hash[field]!);
    return { fields, meta: JSON.parse(hash.m) as LeanMeta };
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async apply(key: string, change: LeanChange, expiresAt: number): Promise<void> {
    const { set, removed, meta, create } = change;
    await this.client.sendCommand([
      'EVALSHA',
      this.scriptSha,
      '1',
      this.prefix + key,
      create ? '1' : '0',
      JSON.stringify(meta),
      String(expiresAt),
      String(set.length / 2),
      ...set,
      ...removed,
    ]);
  }
}
