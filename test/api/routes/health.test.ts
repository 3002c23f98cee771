// /healthz and /readyz of a real service (buildService on a real database, both providers): ready
// while the database answers with every committed migration applied; not ready, with the reason in
// the fault format, when a migration is missing or once the instance is draining.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { buildService } from '../../../src/service.js';
import { freshDatabaseUrl, providers } from '../../support/databases.js';
import { TestCompute, TestDriver } from '../../support/doubles.js';

async function service(provider: (typeof providers)[number]) {
  const url = await freshDatabaseUrl(provider);
  const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' });
  return buildService(config, { driver: new TestDriver(), compute: new TestCompute(), logger: pino({ level: 'silent' }) });
}

const get = async (s: Awaited<ReturnType<typeof service>>, path: string) => {
  const res = await s.app.request(path);
  return { status: res.status, body: await res.json() };
};

describe.each(providers)('health endpoints (%s)', (provider) => {
  it('are unauthenticated, and ready means the database answers with every migration applied', async () => {
    const s = await service(provider);
    try {
      expect(await get(s, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await get(s, '/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
      const [last] = await s.db.prisma.$queryRawUnsafe<{ migration_name: string }[]>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1');
      await s.db.prisma.$executeRawUnsafe(`UPDATE _prisma_migrations SET rolled_back_at = finished_at WHERE migration_name = '${last!.migration_name}'`);
      expect(await get(s, '/readyz')).toEqual({
        status: 503,
        body: { serviceUnavailable: { code: 503, message: 'Not ready: database migrations are not applied' } },
      });
      await s.db.prisma.$executeRawUnsafe(`UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = '${last!.migration_name}'`);
      expect((await get(s, '/readyz')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('turn not ready as soon as the instance drains, while it still answers', async () => {
    const s = await service(provider);
    try {
      await s.drain();
      expect(await get(s, '/readyz')).toEqual({ status: 503, body: { serviceUnavailable: { code: 503, message: 'Not ready: stopping' } } });
      expect(await get(s, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      await s.stop();
    }
  });
});
