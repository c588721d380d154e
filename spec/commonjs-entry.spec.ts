// The package's entries as an installed copy resolves them: `require('routing-controllers-session')` and
// `import(...)` here go through package.json "exports" (a package may name itself), not through src/.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import express from 'express';
import supertest from 'supertest';
import ts from 'typescript';
import * as api from '../src';
import { sessionCookieOf } from './helpers/app';
import { quietLogger, testSecret } from './helpers/stores';

type SessionFactory = typeof api.session & Record<string, unknown>;

const requirePackage = createRequire(__filename);
const built = join(__dirname, '..', 'src');

describe('the CommonJS entry, as express-session has it', () => {
  const entry = requirePackage('routing-controllers-session') as SessionFactory;
  const library = requirePackage(join(built, 'index.js')) as Record<string, unknown>;

  it("is callable: const session = require('routing-controllers-session'); app.use(session({ ... }))", async () => {
    assert.equal(typeof entry, 'function', 'require() gives the middleware factory, not an object');
    const app = express();
    app.use(entry({ secret: testSecret, logger: quietLogger }));
    app.get('/', (request, response) => {
      const current = request.session as unknown as { visits?: number };
      current.visits = (current.visits ?? 0) + 1;
      response.send(String(current.visits));
    });
    const first = await supertest(app).get('/');
    assert.equal(first.text, '1');
    assert.equal((await supertest(app).get('/').set('Cookie', sessionCookieOf(first)!)).text, '2');
  });

  it('has every export of the library on it, the same objects (one copy of every class)', () => {
    const names = Object.keys(library).filter((name) => name !== 'default');
    assert.ok(names.includes('MemoryStore') && names.includes('createSessionMiddleware'));
    for (const name of names) assert.equal(entry[name], library[name], name);
    assert.equal(entry.session, library.session);
  });

  it('keeps the ES module entry: named imports, and a default that is the same callable module', async () => {
    const esm = (await import('routing-controllers-session')) as unknown as Record<string, unknown>;
    assert.equal(esm.default, entry);
    assert.equal(esm.session, library.session);
    assert.equal(esm.MemoryStore, library.MemoryStore);
    assert.equal(esm.SessionConfigError, entry.SessionConfigError);
  });

  it("declares every export of the library, types included, on the CommonJS entry's namespace", () => {
    const files = { library: join(built, 'index.d.ts'), entry: join(built, 'commonjs.d.ts') };
    const program = ts.createProgram(Object.values(files), {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      types: [],
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const exportsOf = (file: string) => {
      const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
      return checker
        .getExportsOfModule(module)
        .map((symbol) => symbol.name)
        .filter((name) => name !== 'default')
        .sort();
    };
    const declared = exportsOf(files.library);
    assert.ok(declared.includes('SessionData') && declared.includes('SessionOptions'), declared.join(', '));
    assert.deepEqual(exportsOf(files.entry), declared, 'src/commonjs.ts lists every export of src/index.ts');
  });
});
