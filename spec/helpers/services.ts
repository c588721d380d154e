import { execFileSync } from 'node:child_process';

// Whether each service the specs use answers, asked once per spec run: the `node --test` process asks (from the
// preload, keyv-version.ts) and leaves the answers in its environment, which every spec file's process inherits.
// Asking in each of them cost about a third of a second a file (the MySQL probe is a node process of its own).

export const redisUrl = 'redis://127.0.0.1:6379';
export const postgresUrl = 'postgres://postgres@127.0.0.1:5432/test';
export const mysqlUrl = 'mysql://root@127.0.0.1:3306/test';

function answersOnce(service: string, probe: () => void): boolean {
  const variable = `SESSION_SPEC_${service}_ANSWERS`;
  if (process.env[variable] === undefined) {
    let answers = true;
    try {
      probe();
    } catch {
      answers = false;
    }
    process.env[variable] = answers ? 'yes' : 'no';
  }
  return process.env[variable] === 'yes';
}

export function redisAnswers(): boolean {
  return answersOnce('REDIS', () => {
    const reply = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { encoding: 'utf8' });
    if (reply.trim() !== 'PONG') throw new Error(reply);
  });
}

export function postgresAnswers(): boolean {
  return answersOnce('POSTGRES', () =>
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' }),
  );
}

/** Asked from a child process, so that this one stays synchronous. */
export function mysqlAnswers(): boolean {
  const probe =
    "require('mysql2').createConnection({ uri: process.argv[1], connectTimeout: 1000 })" +
    '.query("SELECT 1", (error, _rows) => process.exit(error ? 1 : 0))';
  return answersOnce('MYSQL', () =>
    execFileSync(process.execPath, ['-e', probe, mysqlUrl], { stdio: 'ignore', timeout: 5000 }),
  );
}
