// Fresh, migrated databases for tests, one per call, copied from the templates that
// test/support/global-setup.ts migrated once for the run:
//   SQLite:     copy the template file to a new path in the run directory;
//   PostgreSQL: CREATE DATABASE <new> TEMPLATE <template> (the template has no open connections).
// Everything is removed at the end of the run; dropTestDatabases() frees them earlier.
import { randomUUID } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import type { Provider } from '../../src/db/client.js';
import { dropDatabasesWithPrefix, quoteIdent, withAdminClient } from './pg-admin.js';

export const providers: Provider[] = ['sqlite', 'postgresql'];

let counter = 0;
const createdFiles: string[] = [];

function workerPrefix(): string {
  // Unique to this run and this worker process, under the run's prefix (dropped at teardown).
  return `${inject('testDatabases').postgresPrefix}_w${process.pid}`;
}

export async function freshDatabaseUrl(provider: Provider): Promise<string> {
  const ctx = inject('testDatabases');
  const name = `${process.pid}_${++counter}_${randomUUID().slice(0, 8)}`;
  if (provider === 'sqlite') {
    const file = path.join(ctx.runDir, `${name}.db`);
    copyFileSync(ctx.sqliteTemplate, file);
    createdFiles.push(file);
    return `file:${file}`;
  }
  const dbName = `${workerPrefix()}_${counter}`;
  await withAdminClient(ctx.postgresAdminUrl, async (client) => {
    // Concurrent CREATE ... TEMPLATE from other workers is fine; retry if something briefly
    // holds a connection to the template (SQLSTATE 55006, object_in_use).
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(dbName)} TEMPLATE ${quoteIdent(ctx.postgresTemplate)}`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
      }
    }
  });
  const url = new URL(ctx.postgresAdminUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/**
 * A new database with nothing in it, not even the migrations table, for tests that migrate
 * step by step (freshDatabaseUrl's copies have every committed migration applied already).
 */
export async function emptyDatabaseUrl(provider: Provider): Promise<string> {
  const ctx = inject('testDatabases');
  const name = `${process.pid}_${++counter}_${randomUUID().slice(0, 8)}`;
  if (provider === 'sqlite') {
    const file = path.join(ctx.runDir, `${name}.db`);
    createdFiles.push(file);
    return `file:${file}`;
  }
  const dbName = `${workerPrefix()}_${counter}`;
  await withAdminClient(ctx.postgresAdminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(dbName)}`));
  const url = new URL(ctx.postgresAdminUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/**
 * Drops every database and file this worker created so far (close their Db first; PostgreSQL
 * connections still open are terminated). Optional: the global teardown removes them anyway.
 */
export async function dropTestDatabases(): Promise<void> {
  const ctx = inject('testDatabases');
  for (const file of createdFiles.splice(0)) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  }
  await dropDatabasesWithPrefix(ctx.postgresAdminUrl, `${workerPrefix()}_`);
}
