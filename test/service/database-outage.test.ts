// A database that drops every connection for a while (PostgreSQL's pg_terminate_backend, again
// and again) while snapshots are being created: requests answer 202 or 503 with Retry-After,
// never 500; no snapshot is failed by the database's fault; and every snapshot reaches
// `available` within seconds of the database coming back, without help.
//
// And a database that cannot be reached at all (a proxy in front of it closes its port and drops
// every connection, as a stopped server looks): every route that needs it, reads, list pages and
// the web UI's API included, answers 503 with Retry-After in the fault format, logged as a
// dependency failure and never as "unhandled error"; once it is back, the same routes answer.
import pino from 'pino';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TransitionLog } from '../observability/helpers.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { loadConfig } from '../../src/config.js';
import { BookkeepingDriver } from '../../src/drivers/bookkeeping.js';
import { buildService } from '../../src/service.js';
import { send } from '../api/helpers.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { adminUrl } from '../support/pg-admin.js';
import { TestCompute } from '../support/doubles.js';
import { volumeSettled } from '../support/volume-settled.js';

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
      for (const id of volumes) expect(await volumeSettled(service.engine, id)).toBe('available');

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

describe('a PostgreSQL that cannot be reached at all', () => {
  it('answers 503 with Retry-After on every route that needs it, logs a dependency failure, and serves again once it is back', async () => {
    const direct = new URL(await freshDatabaseUrl('postgresql'));
    const proxy = await TcpProxy.start(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(direct);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const logged: Array<{ level: number; msg: string; path?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const config = loadConfig({ DATABASE_URL: viaProxy.toString(), VOLUME_DRIVER: 'bookkeeping', WORKER_POLL_MS: '100', LOG_LEVEL: 'warn' });
    const service = await buildService(config, { driver: new BookkeepingDriver(), compute: new TestCompute(), logger });
    const transitions = new TransitionLog(service);
    const call = (method: string, path: string, body?: unknown) => send(service.app, method, path, body === undefined ? {} : { body }, 'admin:p');
    try {
      const vol = (await call('POST', '/v3/p/volumes', { volume: { size: 1 } })).json.volume.id as string;
      expect(await volumeSettled(service.engine, vol)).toBe('available');
      const snap = (await call('POST', '/v3/p/snapshots', { snapshot: { volume_id: vol, metadata: { a: 'b' } } })).json.snapshot.id as string;
      await transitions.reached(snap, 'available');
      const v = `/v3/p/volumes/${vol}`;
      const s = `/v3/p/snapshots/${snap}`;
      const needTheDatabase: Array<[string, string, unknown?]> = [
        ['GET', '/v3/p/volumes'],
        ['GET', '/v3/p/volumes/detail'],
        ['GET', '/v3/p/volumes?limit=1&sort=size:asc'],
        ['GET', v],
        ['POST', '/v3/p/volumes', { volume: { size: 1 } }],
        ['PUT', v, { volume: { name: 'x' } }],
        ['POST', `${v}/action`, { 'os-reserve': null }],
        ['POST', `${v}/action`, { 'os-initialize_connection': { connector: {} } }],
        ['POST', `${v}/action`, { 'os-attach': { instance_uuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdb' } }],
        ['POST', `${v}/action`, { 'os-reset_status': { status: 'available' } }],
        ['DELETE', v],
        ['GET', '/v3/p/snapshots'],
        ['GET', '/v3/p/snapshots/detail'],
        ['GET', s],
        ['POST', '/v3/p/snapshots', { snapshot: { volume_id: vol } }],
        ['PUT', s, { snapshot: { name: 'x' } }],
        ['POST', `${s}/action`, { 'os-update_snapshot_status': { status: 'creating', progress: '90%' } }],
        ['POST', `${s}/action`, { 'os-reset_status': { status: 'available' } }],
        ['POST', `${s}/action`, { 'os-force_delete': {} }],
        ['DELETE', s],
        ['GET', `${s}/metadata`],
        ['POST', `${s}/metadata`, { metadata: { a: 'c' } }],
        ['PUT', `${s}/metadata`, { metadata: { a: 'c' } }],
        ['GET', `${s}/metadata/a`],
        ['PUT', `${s}/metadata/a`, { meta: { a: 'd' } }],
        ['DELETE', `${s}/metadata/a`],
        ['GET', `${s}/admin_metadata`],
        ['GET', `${s}/transitions`],
        ['GET', '/ui/api/overview'],
        ['GET', `/ui/api/snapshots/${snap}`],
        ['GET', '/ui/api/events'],
        ['GET', '/metrics'],
      ];

      await proxy.cut();
      logged.length = 0;
      const answers: Array<{ route: string; status: number; retryAfter: string | null; body: unknown }> = [];
      for (const [method, path, body] of needTheDatabase) {
        const res = await service.app.request(path, {
          method,
          headers: { 'X-Auth-Token': 'admin:p', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        // An event stream that opened anyway would never end: read only what is not one.
        const json = res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : await res.body?.cancel();
        answers.push({ route: `${method} ${path}`, status: res.status, retryAfter: res.headers.get('retry-after'), body: json });
      }
      const unavailable = { serviceUnavailable: { code: 503, message: 'The server is currently unavailable. Please try again at a later time.' } };
      expect(answers).toEqual(needTheDatabase.map(([method, path]) => ({ route: `${method} ${path}`, status: 503, retryAfter: '1', body: unavailable })));
      // What needs no database still answers.
      for (const path of ['/v3/', '/openapi.json', '/ui/api/session', '/ui/api/machine']) expect((await call('GET', path)).status, path).toBe(200);
      const fromRequests = logged.filter((l) => l.path !== undefined);
      expect(fromRequests.map((l) => [l.level, l.msg])).toEqual(needTheDatabase.map(() => [40, 'dependency unavailable; answered 503']));
      expect(logged.filter((l) => l.msg === 'unhandled error')).toEqual([]);

      // Back: the reads answer again, and nothing the outage refused was written.
      await proxy.restore();
      let shown = await call('GET', s);
      for (let i = 0; shown.status === 503 && i < 50; i++) shown = await call('GET', s);
      expect([shown.status, shown.json.snapshot.status, shown.json.snapshot.name]).toEqual([200, 'available', null]);
      expect((await call('GET', '/v3/p/volumes')).json.volumes).toHaveLength(1);
      expect((await call('GET', `${s}/metadata`)).json).toEqual({ metadata: { a: 'b' } });
      expect((await call('GET', '/ui/api/overview')).status).toBe(200);
    } finally {
      await proxy.restore();
      await service.stop();
      await proxy.close();
    }
  });
});
