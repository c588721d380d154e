import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import KeyvSqlite from '@keyv/sqlite';
import expressSession from 'express-session';
import SessionFileStore from 'session-file-store';
import { Keyv } from 'keyv';
import { Keyv as Keyv5 } from 'keyv5';
import type { SessionOptions } from '../../src';
import { RedisSessionStore } from '../../src';
import { MysqlSessionStore } from '../../src/stores/mysql/store';
import { mysqlAnswers, mysqlUrl, postgresAnswers, postgresUrl, redisAnswers, redisUrl } from './services';

export { mysqlAnswers, mysqlUrl, postgresAnswers, postgresUrl, redisAnswers, redisUrl };

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

/** A Keyv over a SQLite file of its own, closed before its directory is removed after the file's tests. */
function sqliteKeyv<K extends { disconnect(): Promise<void> }>(make: (url: string) => K): K {
  const directory = mkdtempSync(join(tmpdir(), 'rcs-sqlite-'));
  const keyv = make(`sqlite://${join(directory, 'sessions.sqlite')}`);
  after(async () => {
    await keyv.disconnect();
    rmSync(directory, { recursive: true, force: true });
  });
  return keyv;
}

export const memoryStore: StoreUnderTest = {
  name: 'memory',
  options: () => ({ driver: 'memory' }),
};

export const fileStore: StoreUnderTest = {
  name: 'file',
  options: () => ({ driver: 'file', file: { directory: temporaryDirectory('file') } }),
};

/** A third-party Keyv adapter, passed in through `store:`: the "any Keyv store" promise. */
export const sqliteStore: StoreUnderTest = {
  name: 'sqlite (@keyv/sqlite through store:)',
  options: () => {
    const keyv = sqliteKeyv((url) => new Keyv({ store: new KeyvSqlite(url) }));
    return { store: keyv };
  },
};

/** A Keyv 5 instance over a Keyv-5 adapter, the way an app that installed @keyv/sqlite (built on keyv 5) has it. */
export const keyv5SqliteStore: StoreUnderTest = {
  name: 'sqlite through a Keyv 5 instance',
  options: () => {
    const keyv = sqliteKeyv((url) => new Keyv5({ store: new KeyvSqlite(url) }));
    return { store: keyv as unknown as Keyv };
  },
};

let redisStores = 0;

/** A RedisSessionStore under a prefix of its own; its keys are removed and its connection closed after the file's tests. */
export function redisStoreForTest(): RedisSessionStore {
  redisStores += 1;
  const store = new RedisSessionStore({ url: redisUrl, prefix: `rcs-test-${process.pid}-${redisStores}` });
  after(async () => {
    try {
      await store.clear();
    } finally {
      await store.close();
    }
  });
  return store;
}

export const redisStore: StoreUnderTest = {
  name: 'redis',
  options: () => ({ store: redisStoreForTest() }),
};

export const postgresStore: StoreUnderTest = {
  name: 'postgres',
  options: () => ({ driver: 'postgres', postgres: { url: postgresUrl, table: postgresTableForTest() } }),
};

/** Options for the redis driver under a prefix of the test's own, whose keys are removed after the file's tests. */
function redisDriverForTest(label: string): SessionOptions {
  const prefix = `rcs-test-${label}-${process.pid}`;
  after(async () => {
    const cleaner = new RedisSessionStore({ url: redisUrl, prefix });
    // closed even when the clear fails (a slow Redis), or its client keeps the spec process from exiting
    try {
      await cleaner.clear();
    } finally {
      await cleaner.close();
    }
  });
  return { driver: 'redis', redis: { url: redisUrl, prefix } };
}

let mysqlTables = 0;

/** Runs statements on a connection of its own (not through a store under test). */
export async function postgresAdmin(...statements: string[]): Promise<unknown[][]> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    let rows: unknown[][] = [];
    for (const statement of statements) {
      rows = (await client.query({ text: statement, rowMode: 'array' })).rows as unknown[][];
    }
    return rows;
  } finally {
    await client.end();
  }
}

let postgresTables = 0;

/** A table name of the test's own (unique per process and call), dropped after the file's tests. */
export function postgresTableForTest(label = 't'): string {
  postgresTables += 1;
  const table = `rcs_${label}_${process.pid}_${postgresTables}`;
  after(() => postgresAdmin(`DROP TABLE IF EXISTS "${table}"`));
  return table;
}

/** A table name of this process's own, dropped after the file's tests. */
export function mysqlTableForTest(label = 'test'): string {
  mysqlTables += 1;
  const table = `rcs_${label}_${process.pid}_${mysqlTables}`;
  after(async () => {
    const dropper = new MysqlSessionStore({ url: mysqlUrl, table });
    try {
      await dropper.dropTable();
    } finally {
      await dropper.close();
    }
  });
  return table;
}

/** A MysqlSessionStore on a table of its own; the table is dropped and the pool closed after the file's tests. */
export function mysqlStoreForTest(options: Partial<ConstructorParameters<typeof MysqlSessionStore>[0]> = {}) {
  const store = new MysqlSessionStore({ url: mysqlUrl, table: mysqlTableForTest(), ...options });
  after(() => store.close());
  return store;
}

export const mysqlStore: StoreUnderTest = {
  name: 'mysql',
  options: () => ({ store: mysqlStoreForTest() }),
};

/** The stores several app processes can share, as options a child process can take as JSON. */
export const sharedStoresUnderTest: StoreUnderTest[] = [
  { name: 'file', options: () => ({ driver: 'file', file: { directory: temporaryDirectory('shared') } }) },
  ...(redisAnswers() ? [{ name: 'redis', options: () => redisDriverForTest('shared') }] : []),
  ...(postgresAnswers()
    ? [
        {
          name: 'postgres',
          options: (): SessionOptions => ({
            driver: 'postgres',
            postgres: { url: postgresUrl, table: postgresTableForTest('shared') },
          }),
        },
      ]
    : []),
  ...(mysqlAnswers()
    ? [
        {
          name: 'mysql',
          options: (): SessionOptions => ({
            driver: 'mysql',
            mysql: { url: mysqlUrl, table: mysqlTableForTest('shared') },
          }),
        },
      ]
    : []),
];

/** The stores every lifecycle spec runs on; Redis when it answers (CI starts it). */
export const storesUnderTest: StoreUnderTest[] = [
  memoryStore,
  fileStore,
  sqliteStore,
  keyv5SqliteStore,
  ...(redisAnswers() ? [redisStore] : []),
  ...(postgresAnswers() ? [postgresStore] : []),
  ...(mysqlAnswers() ? [mysqlStore] : []),
];

export { temporaryDirectory };

/** session-file-store, an express-session store, in a directory of its own; no retries, no logging. */
export function sessionFileStore(label: string) {
  const FileStoreOfExpress = SessionFileStore(expressSession);
  return new FileStoreOfExpress({ path: temporaryDirectory(label), retries: 0, logFn: () => undefined });
}
