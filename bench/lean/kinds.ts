import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express, RequestHandler } from 'express';
import { LeanFileStore } from './file';
import { LeanMemoryStore } from './memory';
import { LeanRedisStore } from './redis';
import { leanSession } from './session';

/** The lean reference's bench servers, one per store. */
export const leanKinds = ['lean memory', 'lean file', 'lean redis'] as const;
export type LeanKind = (typeof leanKinds)[number];
export const leanRedisPrefix = 'bench-lean:';

/** Greens, beside ours in the chart. */
export const leanColors: Record<LeanKind, string> = {
  'lean memory': '#a5d6a7',
  'lean file': '#66bb6a',
  'lean redis': '#1b5e20',
};

export async function leanSessionFor(
  app: Express,
  kind: LeanKind,
  secret: string,
  redisUrl: string,
): Promise<RequestHandler> {
  if (kind === 'lean memory') return leanSession(app, new LeanMemoryStore(), secret);
  if (kind === 'lean file') {
    const directory = mkdtempSync(join(tmpdir(), 'bench-lean-'));
    process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
    return leanSession(app, new LeanFileStore(directory), secret);
  }
  return leanSession(app, await LeanRedisStore.connect(redisUrl, leanRedisPrefix), secret);
}
