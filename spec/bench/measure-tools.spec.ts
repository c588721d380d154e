import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { measurePerRequest } from '../../bench/per-request';

const repository = join(__dirname, '..', '..', '..');
const abScript = join(repository, 'build', 'bench', 'ab.js');
const run = promisify(execFile);

describe('the per-request pass of the bench', () => {
  it('counts the promises and the bytes allocated per request in the server process', async () => {
    const counter = { path: '/counter', withCookie: true };
    const measured = await measurePerRequest(
      ['lean memory', 'lean file'],
      [['counter', counter]],
      4,
      () => {},
      200,
    );
    const inMemory = measured.get('lean memory|counter')!;
    const inFiles = measured.get('lean file|counter')!;
    // the lean memory store reads and saves synchronously; the file store makes a promise for each of its two calls
    assert.equal(inMemory.promises, 0);
    assert.ok(inFiles.promises >= 2, `${inFiles.promises} promises per request`);
    for (const { bytes } of [inMemory, inFiles]) {
      assert.ok(bytes > 5_000 && bytes < 500_000, `${bytes} bytes per request`);
    }
  });
});

describe('bench/ab.ts', () => {
  it('measures two trees (or two kinds) in turn and prints the medians and B − A by workload', async () => {
    const { stdout } = await run(process.execPath, [
      abScript,
      repository,
      repository,
      '--kind',
      'lean memory',
      '--kind-b',
      'bare express',
      '--workload',
      'counter,plain',
      '--rounds',
      '2',
      '--duration',
      '0.5',
      '--warmup',
      '0',
    ]);
    assert.match(stdout, /round 2\/2 {2}A {2}plain/);
    assert.match(stdout, /^A = .* \(lean memory\)\nB = .* \(bare express\)$/m);
    assert.match(stdout, /\| workload \| A µs\/req \| B µs\/req \| B − A/);
    assert.match(stdout, /^\| counter \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \| -?[\d.]+ … -?[\d.]+ \| [\d.]+ \|$/m);
    assert.match(stdout, /^\| plain \| /m);
  });

  it('refuses an unknown workload and a tree without a build, saying which', async () => {
    const unknown = await run(process.execPath, [
      abScript,
      repository,
      repository,
      '--workload',
      'nope',
    ]).catch((error: { code: number; stderr: string }) => error);
    assert.equal((unknown as { code: number }).code, 2);
    assert.match((unknown as { stderr: string }).stderr, /Unknown workload nope/);
    const unbuilt = await run(process.execPath, [abScript, repository, '/nonexistent-tree']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.match(
      (unbuilt as { stderr: string }).stderr,
      /nonexistent-tree\/build\/bench\/servers\.js does not exist/,
    );
  });
});
