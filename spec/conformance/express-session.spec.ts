import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'conformance', 'express-session', 'run.sh');
/** A clone of github.com/expressjs/session with its dependencies installed (ES_CLONE overrides). */
const clone = process.env.ES_CLONE ?? '/tmp/es-upstream';
const noClone = existsSync(join(clone, 'node_modules', '.bin', 'mocha'))
  ? false
  : `no clone of expressjs/session with its dependencies at ${clone} (set ES_CLONE)`;

/** The tests of express-session's suite that fail on purpose: the README's "Deliberate differences". */
const deliberate = [
  'should error without secret',
  'should pass session fetch error',
  'should pass error from inflate',
  'should pass session touch error',
  'should pass session destroy error',
  'should forward errors setting cookie',
];

/** The spec run preloads a helper by a relative path; the suite runs in another folder. */
const nodeOptions = (process.env.NODE_OPTIONS ?? '').replaceAll('./build/', `${root}/build/`);

function run(...args: string[]) {
  return spawnSync(script, args, {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: nodeOptions, REPORTER: 'json' },
    timeout: 120_000,
  });
}

describe('conformance/express-session/run.sh', () => {
  it('refuses a folder that is not a clone of express-session, saying so', () => {
    const refused = run(join(root, 'sample'));
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /is not a clone of github\.com\/expressjs\/session/);
  });

  it(
    "runs express-session's test/session.js against this package: all pass but the deliberate differences",
    {
      skip: noClone,
    },
    () => {
      const result = run(clone);
      const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
        stats: { passes: number; failures: number };
        failures: Array<{ title: string }>;
      };
      assert.deepEqual(report.failures.map((failure) => failure.title).sort(), [...deliberate].sort());
      assert.equal(report.stats.passes, 136);
      assert.equal(result.status, deliberate.length, "mocha's exit code is the number of failures");
    },
  );
});
