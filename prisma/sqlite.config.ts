// Prisma CLI config for the SQLite flavour (generate, migrate deploy, migrate diff).
// Everything runs on WebAssembly engines + a driver adapter: no native Prisma engine downloads.
// Used as: prisma <cmd> --config prisma/sqlite.config.ts (src/db/migrate.ts, prisma/generate.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(here, 'sqlite', 'schema.prisma'),
  migrations: { path: path.join(here, 'sqlite', 'migrations') },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url || !url.startsWith('file:')) {
      throw new Error(`prisma/sqlite.config.ts: DATABASE_URL must be a file: URL, got ${JSON.stringify(url)}`);
    }
    // Relative paths resolve against the current working directory, as in src/db/client.ts.
    const raw = url.slice('file:'.length).replace(/[?#].*$/, '');
    const file = raw === ':memory:' ? raw : path.resolve(process.cwd(), raw);
    return new PrismaBetterSQLite3({ url: `file:${file}`, timeout: 30_000 });
  },
});
