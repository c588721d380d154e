import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { FileStore } from '../../src';
import { signSessionId } from '../../src/session/cookie';
import { createTestApp } from '../helpers/app';
import { rawRequest } from '../helpers/raw-http';
import { temporaryDirectory, testSecret } from '../helpers/stores';

/** A FileStore that counts reads, so a spec can show no cookie it did not sign ever reaches the store. */
class CountingFileStore extends FileStore {
  reads = 0;

  override async read(key: string): ReturnType<FileStore['read']> {
    this.reads += 1;
    return super.read(key);
  }
}

const base64url = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString('base64url'));
const forgedSignature = fc
  .uint8Array({ minLength: 1, maxLength: 40 })
  .map((bytes) => Buffer.from(bytes).toString('base64'));

const hostileCookieValue = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ minLength: 16_384, maxLength: 20_000, unit: 'grapheme-ascii' }),
  fc
    .tuple(
      fc.constantFrom('../', '..%2f', '%2e%2e', '%2e%2e%2f', '..\\', '/etc/passwd'),
      fc.string({ maxLength: 40 }),
    )
    .map(([traversal, rest]) => `s:${traversal.repeat(3)}${rest}`),
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
    .map(([left, right]) => `${left}\0${right}`),
  fc.tuple(base64url, forgedSignature).map(([id, signature]) => encodeURIComponent(`s:${id}.${signature}`)),
  base64url.map((id) =>
    encodeURIComponent(signSessionId(id, 'a retired secret that is no longer in the rotation')),
  ),
  base64url.map((id) =>
    encodeURIComponent(`s:${id}.${createHmac('sha1', testSecret).update(id).digest('base64')}`),
  ),
);

const hostileCookieHeaders = fc.oneof(
  hostileCookieValue.map((value) => [`sid=${value}`]),
  fc
    .tuple(hostileCookieValue, hostileCookieValue)
    .map(([first, second]) => [`sid=${first}`, `sid=${second}`]),
  fc.tuple(hostileCookieValue, hostileCookieValue).map(([first, second]) => [`sid=${first}; sid=${second}`]),
  hostileCookieValue.map((value) => [value]),
);

describe('hostile cookies', () => {
  it('all get a normal response with a fresh session, and never reach the store or name a file', async (context) => {
    const directory = temporaryDirectory('hostile');
    const store = new CountingFileStore({ directory });
    const { app } = createTestApp({ store });
    const server = createServer({ maxHeaderSize: 64 * 1024 }, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;

    const seed = Number(process.env.FUZZ_SEED ?? randomBytes(4).readUInt32LE());
    const numRuns = Number(process.env.FUZZ_RUNS ?? 1500);
    context.diagnostic(`fast-check: ${numRuns} cases, seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileCookieHeaders, fc.boolean(), async (cookieHeaders, writes) => {
        const cookieLines = cookieHeaders.map((header) => `Cookie: ${header}`).join('\r\n');
        const head = writes
          ? `PUT /keys/visited HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${cookieLines}`
          : `GET /session HTTP/1.1\r\nHost: localhost\r\n${cookieLines}`;
        const response = await rawRequest(port, head, writes ? '{"value":true}' : '');
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 400 || response.status === 431) return;
        assert.equal(response.status, 200, response.body.slice(0, 200));
        if (!writes) assert.deepEqual(JSON.parse(response.body).data, {});
      }),
      { seed, numRuns },
    );
    context.diagnostic(
      `statuses: ${JSON.stringify(Object.fromEntries(statuses))} (400/431: refused by Node's HTTP parser)`,
    );
    assert.equal(store.reads, 0, 'no unsigned or forged cookie led to a store read');
    for (const name of readdirSync(directory)) assert.match(name, /^[0-9a-f]{64}\.json$/);
  });
});
