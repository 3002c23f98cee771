// Builds prisma/<provider>/schema.prisma from prisma/models.prisma and generates one Prisma
// client per provider into src/generated/<provider> (gitignored).
//
//   tsx prisma/generate.ts          write both schema files, then `prisma generate` each
//   tsx prisma/generate.ts --check  exit 1 if the committed schema files are not what
//                                   models.prisma produces (nothing is written)
//   tsx prisma/generate.ts --init-migrations
//                                   (re)write the single `<timestamp>_init` migration of each
//                                   provider from the current schema, via `prisma migrate diff
//                                   --from-empty` (PostgreSQL needs a reachable server:
//                                   INIT_MIGRATIONS_POSTGRES_URL, default postgres@127.0.0.1:5432).
//                                   Only for before the first release: refuses once a provider has
//                                   more than one migration. Later changes get new migrations.
//
// Works on a fresh clone: DATABASE_URL need not be set (a placeholder of the right provider is
// given to the CLI; `prisma generate` never connects).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type SchemaProvider = 'sqlite' | 'postgresql';

const prismaDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(prismaDir, '..');

const placeholderUrl: Record<SchemaProvider, string> = {
  sqlite: 'file:./placeholder.db',
  postgresql: 'postgresql://placeholder@127.0.0.1:5432/placeholder',
};

export const schemaProviders: readonly SchemaProvider[] = ['sqlite', 'postgresql'];

export function schemaPath(provider: SchemaProvider): string {
  return path.join(prismaDir, provider, 'schema.prisma');
}

export function configPath(provider: SchemaProvider): string {
  return path.join(prismaDir, `${provider}.config.ts`);
}

/** The full text of prisma/<provider>/schema.prisma for the given models. */
export function renderSchema(provider: SchemaProvider, models: string): string {
  const header = [
    '// generated from models.prisma, do not edit',
    `// (edit prisma/models.prisma and run \`npm run generate\`)`,
    '',
    'datasource db {',
    `  provider = "${provider}"`,
    '  url      = env("DATABASE_URL")',
    '}',
    '',
    'generator client {',
    '  provider               = "prisma-client"',
    '  engineType             = "client"',
    '  moduleFormat           = "esm"',
    '  runtime                = "nodejs"',
    '  generatedFileExtension = "ts"',
    '  importFileExtension    = "js"',
    `  output                 = "../../src/generated/${provider}"`,
    '}',
    '',
    '',
  ].join('\n');
  return header + models.replace(/\r\n/g, '\n').trimEnd() + '\n';
}

function readModels(): string {
  return readFileSync(path.join(prismaDir, 'models.prisma'), 'utf8');
}

/** Providers whose schema file on disk differs from (or is missing versus) what models.prisma gives. */
export function staleSchemas(): SchemaProvider[] {
  const models = readModels();
  return schemaProviders.filter((p) => {
    const file = schemaPath(p);
    return !existsSync(file) || readFileSync(file, 'utf8') !== renderSchema(p, models);
  });
}

function prismaCli(
  args: string[],
  provider: SchemaProvider,
  options: { databaseUrl?: string; capture?: boolean } = {},
): string {
  const cli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
  const preload = path.join(prismaDir, 'cli-preload.cjs'); // see that file
  const result = spawnSync(process.execPath, ['-r', preload, cli, ...args, '--config', configPath(provider)], {
    cwd: root,
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl ?? placeholderUrl[provider],
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      NO_COLOR: '1',
    },
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`prisma ${args.join(' ')} (${provider}) exited with ${result.status ?? result.signal}`);
  }
  return result.stdout ?? '';
}

function migrationsDir(provider: SchemaProvider): string {
  return path.join(prismaDir, provider, 'migrations');
}

function utcStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Rewrites each provider's single init migration from the current schema file. */
function writeInitMigrations(): void {
  const postgresUrl =
    process.env.INIT_MIGRATIONS_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  for (const p of schemaProviders) {
    const dir = migrationsDir(p);
    mkdirSync(dir, { recursive: true });
    const existing = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    if (existing.length > 1 || (existing.length === 1 && !existing[0]!.endsWith('_init'))) {
      throw new Error(`${path.relative(root, dir)} already has migrations beyond init (${existing.join(', ')}); add a new migration instead`);
    }
    const name = existing[0] ?? `${utcStamp()}_init`;
    // `migrate diff` connects through the config's adapter even --from-empty, but changes nothing.
    const out = prismaCli(
      ['migrate', 'diff', '--from-empty', '--to-schema-datamodel', schemaPath(p), '--script'],
      p,
      { databaseUrl: p === 'sqlite' ? 'file::memory:' : postgresUrl, capture: true },
    );
    const start = out.indexOf('-- ');
    if (start < 0) throw new Error(`unexpected \`prisma migrate diff\` output for ${p}:\n${out}`);
    // Drop any banner before the SQL, and the CREATE SCHEMA for "public" that --from-empty adds
    // (the schema always exists; creating it needs a privilege the app role may not have).
    const sql = out
      .slice(start)
      .replace('-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n', '')
      .trimEnd() + '\n';
    mkdirSync(path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, 'migration.sql'), sql);
    writeFileSync(
      path.join(dir, 'migration_lock.toml'),
      '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\n' +
        `provider = "${p}"\n`,
    );
    console.log(`wrote ${path.relative(root, path.join(dir, name, 'migration.sql'))}`);
  }
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const stale = staleSchemas();
    if (stale.length > 0) {
      for (const p of stale) {
        console.error(`${path.relative(root, schemaPath(p))} is out of date with prisma/models.prisma`);
      }
      console.error('run `npm run generate` and commit the result');
      return 1;
    }
    console.log('prisma schema files are in sync with prisma/models.prisma');
    return 0;
  }
  const models = readModels();
  for (const p of schemaProviders) {
    const file = schemaPath(p);
    mkdirSync(path.dirname(file), { recursive: true });
    const text = renderSchema(p, models);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  }
  for (const p of schemaProviders) prismaCli(['generate'], p);
  if (argv.includes('--init-migrations')) writeInitMigrations();
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
