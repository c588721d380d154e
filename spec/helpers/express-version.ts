// Preloaded into every process of a spec run, next to keyv-version (`NODE_OPTIONS=--require ...`, which
// node --test's per-file processes and the servers the specs spawn inherit).
//
// With SESSION_SPEC_EXPRESS=4 the project's `express` (5.x, the devDependency) is swapped for the `express4`
// alias (npm:express@^4.21.2) everywhere the project's copy would be loaded: the spec helpers, the sample,
// routing-controllers' useExpressServer. A package with an express of its own keeps it. node_modules is not
// touched. For a checkout whose node_modules lacks the alias (one shared with other checkouts), set
// SESSION_SPEC_EXPRESS4_DIR to the folder of an express 4 installed elsewhere (…/node_modules/express).
//
// Every spec file reports the express it ran on, once, on stderr.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot, specFileOfThisProcess, swapProjectPackage } from './swap-package';

const wanted = process.env.SESSION_SPEC_EXPRESS ?? '5';

if (wanted !== '4' && wanted !== '5') {
  throw new Error(`SESSION_SPEC_EXPRESS must be 4 or 5, not ${JSON.stringify(wanted)}`);
}

function express4Entry(): string {
  const elsewhere = process.env.SESSION_SPEC_EXPRESS4_DIR;
  return realpathSync(
    elsewhere ? require.resolve(elsewhere) : require.resolve('express4', { paths: [projectRoot] }),
  );
}

if (wanted === '4') swapProjectPackage('express', express4Entry());

/** The version of the express that `require('express')` gives here, from its package.json. */
function expressInUse(): string {
  const entry = require.resolve('express');
  return (JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string })
    .version;
}

const specFile = specFileOfThisProcess();
if (specFile !== undefined) {
  const version = expressInUse();
  if (!version.startsWith(`${wanted}.`)) {
    throw new Error(`SESSION_SPEC_EXPRESS=${wanted}, but require('express') gives express ${version}`);
  }
  process.stderr.write(`express ${version} under ${specFile}\n`);
}
