// Preloaded into every process of a spec run (`NODE_OPTIONS=--require build/spec/helpers/keyv-version.js`,
// which node --test's per-file processes and the servers the specs spawn inherit).
//
// With SESSION_SPEC_KEYV=5 the project's `keyv` (6.x, the devDependency) is swapped for the `keyv5` alias
// (npm:keyv@5.6.0) everywhere: the library's require('keyv'), the spec helpers, @keyv/sqlite. That is the
// tree a user on Node 20 gets (keyv 6 wants Node >= 22.19, so npm picks 5.6.0 for the peer dependency).
// Only requests that would land on the project's own copy are redirected; a package with a keyv of its own
// under its node_modules keeps it. node_modules is not touched.
//
// Every spec file reports the keyv it ran on, once, on stderr (stdout of a spawned server is its protocol).
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mysqlAnswers, postgresAnswers, redisAnswers } from './services';
import { projectRoot, specFileOfThisProcess, swapProjectPackage } from './swap-package';

const wanted = process.env.SESSION_SPEC_KEYV ?? '6';

if (wanted !== '5' && wanted !== '6') {
  throw new Error(`SESSION_SPEC_KEYV must be 5 or 6, not ${JSON.stringify(wanted)}`);
}

// Both keyv 5 and 6 export only '.', so the bare 'keyv' is the one request there is to redirect.
if (wanted === '5')
  swapProjectPackage('keyv', realpathSync(require.resolve('keyv5', { paths: [projectRoot] })));

/**
 * The keyv that `require('keyv')` gives here: its version from its package.json, and the major told by the
 * class itself (keyv 5 names its default namespace 'keyv', keyv 6 has none), so a redirect that only fooled
 * the resolver cannot pass.
 */
function keyvInUse(): { version: string; major: string } {
  const entry = require.resolve('keyv');
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Keyv } = require('keyv') as typeof import('keyv');
  return { version, major: new Keyv().namespace === 'keyv' ? '5' : '6' };
}

const specFile = specFileOfThisProcess();
if (specFile !== undefined) {
  const { version, major } = keyvInUse();
  if (major !== wanted || !version.startsWith(`${wanted}.`)) {
    throw new Error(
      `SESSION_SPEC_KEYV=${wanted}, but require('keyv') gives keyv ${version} (class of keyv ${major})`,
    );
  }
  process.stderr.write(`keyv ${version} under ${specFile}\n`);
}

// the test runner asks once which services answer; the spec files' processes inherit the answers
if (process.execArgv.includes('--test')) {
  redisAnswers();
  postgresAnswers();
  mysqlAnswers();
}
