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

/** The committed migrations of the database's provider that it has not applied (all, for a new one). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const dir = path.join(projectRoot(), 'prisma', db.provider, 'migrations');
  const committed = readdirSync(dir).filter((d) => statSync(path.join(dir, d)).isDirectory()).sort();
  try {
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.migration_name));
    return committed.filter((m) => !applied.has(m));
  } catch {
    // No migrations table yet: nothing was ever applied.
    return committed;
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
  await migrateDeploy(url);
  return { db: await openDatabase(url), applied: pending };
}
