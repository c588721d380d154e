import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { SessionOptions } from '../../src';

export interface StoreUnderTest {
  name: string;
  /** Store options for one test app: a fresh place in the store each call. */
  options(): SessionOptions;
}

export const quietLogger = { warn: () => undefined, error: () => undefined };

export const testSecret = 'a test secret that is long enough to pass in production';

function temporaryDirectory(label: string): string {
  const directory = mkdtempSync(join(tmpdir(), `rcs-${label}-`));
  after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

export const memoryStore: StoreUnderTest = {
  name: 'memory',
  options: () => ({ driver: 'memory' }),
};

export const fileStore: StoreUnderTest = {
  name: 'file',
  options: () => ({ driver: 'file', file: { directory: temporaryDirectory('file') } }),
};

/** The stores every lifecycle spec runs on. */
export const storesUnderTest: StoreUnderTest[] = [memoryStore, fileStore];

export { temporaryDirectory };
