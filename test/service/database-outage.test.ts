// A database that drops every connection for a while (PostgreSQL's pg_terminate_backend, again
// and again) while snapshots are being created: requests answer 202 or 503 with Retry-After,
// never 500; no snapshot is failed by the database's fault; and every snapshot reaches
// `available` within seconds of the database coming back, without help.
import pino from 'pino';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BookkeepingDriver } from '../../src/drivers/bookkeeping.js';
import { buildService } from '../../src/service.js';
import { send } from '../api/helpers.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { adminUrl } from '../support/pg-admin.js';
import { TestCompute } from '../support/doubles.js';

const OUTAGE_MS = 3000;

describe('a PostgreSQL outage while snapshots are created', () => {
  it('answers 503 instead of 500, fails no snapshot, and finishes every one once the database is back', async () => {
    const url = await freshDatabaseUrl('postgresql');
    const database = new URL(url).pathname.slice(1);
    const config = loadConfig({ DATABASE_URL: url, VOLUME_DRIVER: 'bookkeeping', WORKER_POLL_MS: '100', LOG_LEVEL: 'silent' });
    const service = await buildService(config, { driver: new BookkeepingDriver(), compute: new TestCompute(), logger: pino({ level: 'silent' }) });
    const call = (method: string, path: string, body?: unknown) => send(service.app, method, `/v3/p${path}`, body === undefined ? {} : { body }, 'u:p');
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      const volumes: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await call('POST', '/volumes', { volume: { size: 1 } });
        expect(r.status).toBe(202);
        volumes.push(r.json.volume.id);
      }

      let killing = true;
      let kills = 0;
      const killer = (async () => {
        const until = Date.now() + OUTAGE_MS;
        while (Date.now() < until) {
          const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
          kills += rowCount ?? 0;
          await new Promise((r) => setTimeout(r, 200));
        }
        killing = false;
      })();
      const answers: Array<{ status: number; retryAfter: string | null; id?: string }> = [];
      const client = async (n: number) => {
        for (let i = 0; killing; i++) {
          const r = await call('POST', '/snapshots', { snapshot: { volume_id: volumes[(n + i) % volumes.length] } });
          answers.push({ status: r.status, retryAfter: r.headers.get('retry-after'), id: r.json?.snapshot?.id });
        }
      };
      await Promise.all([killer, client(0), client(1), client(2), client(3)]);

      expect(kills).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
      expect(answers.filter((a) => a.status === 503 && a.retryAfter !== '1')).toEqual([]);
      const accepted = answers.filter((a) => a.status === 202).map((a) => a.id!);
      expect(accepted.length).toBeGreaterThan(0);

      // Back up: every snapshot there is (the acknowledged ones, and any whose answer was lost)
      // becomes available within a few seconds, none through error.
      const db = service.db.prisma;
      const deadline = Date.now() + 15_000;
      let rows = await db.snapshot.findMany({ select: { id: true, status: true, errorReason: true } });
      while (rows.some((r) => r.status !== 'available') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        rows = await db.snapshot.findMany({ select: { id: true, status: true, errorReason: true } });
      }
      expect(rows.filter((r) => r.status !== 'available')).toEqual([]);
      expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(accepted));
      const failed = await db.snapshotTransition.count({ where: { OR: [{ toStatus: 'error' }, { eventType: 'storage.failed' }] } });
      expect(failed).toBe(0);
      expect(await db.outboxJob.count({ where: { status: 'pending' } })).toBe(0);
    } finally {
      await admin.end();
      await service.stop();
    }
  });
});
