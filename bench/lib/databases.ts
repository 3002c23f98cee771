// Fresh databases for one benchmark run: a SQLite file in the run's temp dir, or a PostgreSQL
// database created on the admin URL and dropped (WITH (FORCE)) afterwards.
import path from 'node:path';
import pg from 'pg';

export type ProviderName = 'sqlite' | 'postgresql';

export interface BenchDatabase {
  provider: ProviderName;
  url: string;
  /** Removes the database (the temp dir, and with it a SQLite file, is removed by the caller). */
  drop(): Promise<void>;
}

export async function freshDatabase(provider: ProviderName, tmpDir: string, adminUrl: string, tag: string): Promise<BenchDatabase> {
  if (provider === 'sqlite') {
    return { provider, url: `file:${path.join(tmpDir, `${tag}.db`)}`, drop: async () => {} };
  }
  const name = `bench_http_${process.pid}`;
  await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await queryOnce(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    provider,
    url: url.toString(),
    drop: async () => {
      await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** One statement on a connection of its own, closed after: the rows. */
export async function queryOnce<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}
