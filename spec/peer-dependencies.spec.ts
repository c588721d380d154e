// What package.json asks of an app: express 4.21+ or 5 (the suite runs on both: SESSION_SPEC_EXPRESS=4), and
// routing-controllers, class-validator, class-transformer and reflect-metadata only as optional peers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** Whether `version` is in `range`, for ranges made of `^x.y.z` alternatives (all package.json uses here). */
function satisfies(version: string, range: string): boolean {
  const parts = (text: string) => text.split('.').map(Number) as [number, number, number];
  const [major, minor, patch] = parts(version);
  return range.split('||').some((alternative) => {
    const match = /^\s*\^(\d+\.\d+\.\d+)\s*$/.exec(alternative);
    assert.ok(match, `a range of ^x.y.z alternatives, not ${JSON.stringify(range)}`);
    const [low, lowMinor, lowPatch] = parts(match[1]!);
    return major === low && (minor > lowMinor || (minor === lowMinor && patch >= lowPatch));
  });
}

describe('peer dependencies', () => {
  it('express: the one this run uses, and both majors routing-controllers apps run (4.21 and 5)', () => {
    const range = manifest.peerDependencies.express!;
    const { version } = JSON.parse(
      readFileSync(join(dirname(require.resolve('express')), 'package.json'), 'utf8'),
    ) as { version: string };
    assert.ok(satisfies(version, range), `express ${version} (this run) is outside ${range}`);
    for (const wanted of ['4.21.2', '4.22.1', '5.0.0', '5.3.0']) assert.ok(satisfies(wanted, range), wanted);
    assert.ok(!satisfies('4.21.1', range) && !satisfies('3.21.2', range));
  });

  it('routing-controllers, class-validator, class-transformer and reflect-metadata are optional', () => {
    for (const name of ['routing-controllers', 'class-validator', 'class-transformer', 'reflect-metadata']) {
      assert.ok(manifest.peerDependencies[name], `${name} is a peer dependency`);
      assert.equal(manifest.peerDependenciesMeta[name]?.optional, true, `${name} is optional`);
    }
    for (const name of ['express', 'keyv'])
      assert.notEqual(manifest.peerDependenciesMeta[name]?.optional, true);
  });
});
