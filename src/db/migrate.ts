// Applies the committed migrations (prisma/<provider>/migrations) to the database at `url` by
// running the real `prisma migrate deploy` CLI with that provider's config (WebAssembly schema
// engine + driver adapter, see prisma/<provider>.config.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/project-root.js';
import { normalizeDatabaseUrl, openDatabase, providerOf, sqliteFilePath, type Db } from './client.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the project's Prisma CLI (node_modules/prisma) with the given env additions. */
export function runPrismaCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const cli = path.join(projectRoot(), 'node_modules', 'prisma', 'build', 'index.js');
  // The preload stops the wasm schema engine's stray 10 s timer from delaying exit (see file).
  const preload = path.join(projectRoot(), 'prisma', 'cli-preload.cjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', preload, cli, ...args], {
      cwd: projectRoot(),
      env: {
        ...process.env,
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

export async function migrateDeploy(url: string): Promise<void> {
  const provider = providerOf(url);
  const databaseUrl = normalizeDatabaseUrl(url);
  if (provider === 'sqlite') {
    const file = sqliteFilePath(url);
    if (file === ':memory:') throw new Error('migrateDeploy: cannot migrate an in-memory SQLite database');
    mkdirSync(path.dirname(file), { recursive: true });
  }
  const config = path.join(projectRoot(), 'prisma', `${provider}.config.ts`);
  const result = await runPrismaCli(['migrate', 'deploy', '--config', config], {
    DATABASE_URL: databaseUrl,
  });
  if (result.code !== 0) {
    throw new Error(
      `prisma migrate deploy failed for ${redact(databaseUrl)} ` +
        `(exit ${result.code ?? result.signal}):\n${result.output.trim()}`,
    );
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

// The migration folders ship with the release and do not change while it runs; /readyz asks on
// every probe, so they are listed once per provider.
const committedByProvider = new Map<Db['provider'], readonly string[]>();
function committedMigrations(provider: Db['provider']): readonly string[] {
  let committed = committedByProvider.get(provider);
  if (!committed) {
    const dir = path.join(projectRoot(), 'prisma', provider, 'migrations');
    committed = readdirSync(dir).filter((d) => statSync(path.join(dir, d)).isDirectory()).sort();
    committedByProvider.set(provider, committed);
  }
  return committed;
}

/** The committed migrations of the database's provider that it has not applied (all, for a new one). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const committed = committedMigrations(db.provider);
  try {
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return committed.filter((m) => !applied.has(m));
  } catch {
    // No migrations table yet: nothing was ever applied.
    return [...committed];
  }
}

/**
 * Opens the database a starting service uses, running `prisma migrate deploy` only when a
 * committed migration is missing: the CLI costs about 2 s of every start, and on SQLite it cannot
 * run while any connection has the file open (so this one is closed around it).
 */
export async function openMigrated(url: string): Promise<{ db: Db; applied: string[] }> {
  const db = await openDatabase(url);
  const pending = await pendingMigrations(db);
  if (pending.length === 0) return { db, applied: [] };
  await db.close();
  // Several instances starting at once on a new release all find the migration missing; they
  // take turns, and whoever comes second finds it applied and does nothing.
  const applied = await withMigrationLock(url, async () => {
    const again = await openDatabase(url);
    const stillPending = await pendingMigrations(again).finally(() => again.close());
    if (stillPending.length > 0) await migrateDeploy(url);
    return stillPending;
  });
  return { db: await openDatabase(url), applied };
}

/** Whether every committed migration is applied; throws when the database cannot be asked. */
export async function migrationsApplied(db: Db): Promise<boolean> {
  // A plain round trip first, so an unreachable database throws instead of reading as "nothing applied".
  await db.sql.query({ sql: 'SELECT 1', text: 'SELECT 1', values: [] });
  return (await pendingMigrations(db)).length === 0;
}

/** How long a starting instance waits for another's migration before giving up. */
const MIGRATION_LOCK_WAIT_MS = 10 * 60_000;

/**
 * Runs `fn` while no other process migrates the same database. PostgreSQL: a session advisory
 * lock on a connection of its own (Prisma's `migrate deploy` takes one too, but gives up after
 * 10 s, and our check-then-deploy has to be inside the lock as well). SQLite, which has no such
 * lock: proper-lockfile's lock directory beside the database file.
 */
async function withMigrationLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  if (providerOf(url) === 'postgresql') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, application_name: 'assisted-snapshots-migrate' });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(`SET lock_timeout = ${MIGRATION_LOCK_WAIT_MS}`);
      await client.query("SELECT pg_advisory_lock(hashtextextended('assisted-snapshots:migrate', 0))");
      return await fn();
    } finally {
      // Ending the session releases the lock too, whatever happened.
      await client.end().catch(() => {});
    }
  }
  const file = sqliteFilePath(url);
  mkdirSync(path.dirname(file), { recursive: true });
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(path.dirname(file), {
    lockfilePath: `${file}.migrate.lock`,
    retries: { retries: Math.ceil(MIGRATION_LOCK_WAIT_MS / 1000), minTimeout: 100, maxTimeout: 1000 },
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}
