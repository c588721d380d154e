// What the version preloads (keyv-version, express-version) share: a bare `require(name)` that would land on the
// project's own copy of a package is sent to another copy (an npm alias of another major); a package with a copy
// of its own under its node_modules keeps it. node_modules is not touched.
import { realpathSync } from 'node:fs';
import Module from 'node:module';
import { join, relative, sep } from 'node:path';

interface ResolveFilename {
  (request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}
const loader = Module as unknown as { _resolveFilename: ResolveFilename };

export const projectRoot = join(__dirname, '..', '..', '..');

/** Sends `require(name)` from wherever it would reach the project's own copy to the file `entry`. */
export function swapProjectPackage(name: string, entry: string): void {
  // real paths: the resolver answers with them, and node_modules may be a symlink
  const projectCopy = realpathSync(join(projectRoot, 'node_modules', name)) + sep;
  const original = loader._resolveFilename;
  loader._resolveFilename = function (request, parent, isMain, options) {
    const resolved = original.call(this, request, parent, isMain, options);
    return request === name && resolved.startsWith(projectCopy) ? entry : resolved;
  };
}

/**
 * The spec file this process runs, relative to the project (to report which copy it ran on), or undefined in
 * the `node --test` runner itself, whose argv[1] is the first of the files it runs, and in spawned servers.
 */
export function specFileOfThisProcess(): string | undefined {
  const script = process.argv[1] ?? '';
  if (!script.endsWith('.spec.js') || process.execArgv.includes('--test')) return undefined;
  return relative(projectRoot, script);
}
