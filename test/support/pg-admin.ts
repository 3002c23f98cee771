// Admin statements (CREATE/DROP DATABASE) on the test PostgreSQL server, via the `pg` package.
import pg from 'pg';

/** The test server's admin URL: TEST_POSTGRES_ADMIN_URL, else postgres@127.0.0.1:5432/postgres. */
export function adminUrl(): string {
  return process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Cannot connect to the test PostgreSQL server at ${url} (${String(err)}). ` +
        'Start it (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) ' +
        'or point TEST_POSTGRES_ADMIN_URL at one.',
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops (WITH FORCE: open connections are closed) every database whose name starts with prefix. */
export async function dropDatabasesWithPrefix(url: string, prefix: string): Promise<string[]> {
  return withAdminClient(url, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
      [prefix],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
    return rows.map((r) => r.datname);
  });
}
