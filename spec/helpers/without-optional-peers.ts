// Preloaded (`node --require`) into a process that plays a plain Express app: routing-controllers,
// class-validator, class-transformer and reflect-metadata cannot be resolved there, as when npm did not
// install them (they are optional peer dependencies). node_modules is not touched.
import Module from 'node:module';

interface ResolveFilename {
  (request: string, parent: unknown, isMain: boolean, options?: unknown): string;
}
const loader = Module as unknown as { _resolveFilename: ResolveFilename };

// SPEC_ABSENT_PACKAGES (comma-separated, e.g. 'pg') hides those packages instead
export const absentPackages = process.env.SPEC_ABSENT_PACKAGES?.split(',') ?? [
  'routing-controllers',
  'class-validator',
  'class-transformer',
  'reflect-metadata',
];

const original = loader._resolveFilename;
loader._resolveFilename = function (request, parent, isMain, options) {
  if (absentPackages.some((name) => request === name || request.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find module '${request}'`) as Error & { code: string };
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return original.call(this, request, parent, isMain, options);
};
