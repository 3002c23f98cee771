// Prisma CLI config for the PostgreSQL flavour (generate, migrate deploy, migrate diff).
// Everything runs on WebAssembly engines + a driver adapter: no native Prisma engine downloads.
// Needs patches/@prisma+adapter-pg+6.19.3.patch (maps the `name` column type to text), or
// `migrate deploy` fails with "Column type 'name' could not be deserialized".
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(here, 'postgresql', 'schema.prisma'),
  migrations: { path: path.join(here, 'postgresql', 'migrations') },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url || !/^postgres(ql)?:\/\//.test(url)) {
      throw new Error(`prisma/postgresql.config.ts: DATABASE_URL must be a postgres:// URL, got ${JSON.stringify(url)}`);
    }
    // allowExitOnIdle: the CLI never closes the pool; without it each run lingers ~10 s
    // (pg idleTimeoutMillis) after finishing.
    return new PrismaPg({ connectionString: url, allowExitOnIdle: true, idleTimeoutMillis: 500 });
  },
});
