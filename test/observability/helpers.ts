// One real service in-process (buildService, a fresh SQLite file, the test doubles), optionally
// served over HTTP, plus a way to wait for transitions by listening, never by sleeping.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import type { CommittedTransition, VolumeTransitionCommitted } from '../../src/engine/engine.js';
import { buildService, type Service } from '../../src/service.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { TestCompute, TestDriver } from '../support/doubles.js';

export const TOKEN = 'tester:demo';
export const PROJECT = 'demo';
export const INSTANCE = '11111111-2222-3333-4444-555555555555';

/** Every transition this service commits, kept from the start, so a wait can never miss one. */
export class TransitionLog {
  readonly all: CommittedTransition[] = [];
  private waiters: Array<{ match: (t: CommittedTransition) => boolean; resolve: (t: CommittedTransition) => void }> = [];
  /** The volume machine's transitions, kept the same way. */
  readonly volumes: VolumeTransitionCommitted[] = [];
  private volumeWaiters: Array<{ match: (t: VolumeTransitionCommitted) => boolean; resolve: (t: VolumeTransitionCommitted) => void }> = [];

  constructor(service: Service) {
    service.engine.events.on('volumeTransition', (t) => {
      this.volumes.push(t);
      this.volumeWaiters = this.volumeWaiters.filter((w) => {
        if (!w.match(t)) return true;
        w.resolve(t);
        return false;
      });
    });
    service.engine.events.on('transition', (t: CommittedTransition) => {
      this.all.push(t);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(t)) return true;
        w.resolve(t);
        return false;
      });
    });
  }

  /** The first transition (already committed or still to come) that matches. */
  waitFor(match: (t: CommittedTransition) => boolean, what: string, timeoutMs = 10_000): Promise<CommittedTransition> {
    const seen = this.all.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no transition ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      });
    });
  }

  /** The first transition of volume `volumeId` into one of `phases` (already committed or still to come). */
  volumeReached(volumeId: string, phases: readonly string[], timeoutMs = 10_000): Promise<VolumeTransitionCommitted> {
    const match = (t: VolumeTransitionCommitted) => t.volumeId === volumeId && phases.includes(t.toPhase);
    const seen = this.volumes.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no transition of volume ${volumeId} into ${phases.join(' or ')} within ${timeoutMs} ms`)), timeoutMs);
      this.volumeWaiters.push({
        match,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      });
    });
  }

  reached(snapshotId: string, phase: string, timeoutMs?: number) {
    return this.waitFor((t) => t.snapshotId === snapshotId && t.toPhase === phase, `of ${snapshotId} into ${phase}`, timeoutMs);
  }
}

export interface TestService {
  service: Service;
  log: TransitionLog;
  driver: TestDriver;
  compute: TestCompute;
  /** http://127.0.0.1:<port> when served, else null (requests go through app.request). */
  baseUrl: string | null;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestService(
  options: { serveHttp?: boolean; env?: Record<string, string>; config?: Record<string, string>; logger?: pino.Logger } = {},
): Promise<TestService> {
  const url = await freshDatabaseUrl('sqlite');
  const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...options.env, ...options.config });
  const driver = new TestDriver();
  const compute = new TestCompute();
  const service = await buildService(config, { driver, compute, logger: options.logger ?? pino({ level: 'silent' }) });
  const log = new TransitionLog(service);
  let server: ServerType | null = null;
  let baseUrl: string | null = null;
  if (options.serveHttp) {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = {
      method,
      headers: { 'X-Auth-Token': TOKEN, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    };
    return baseUrl ? fetch(`${baseUrl}${path}`, init) : Promise.resolve(service.app.request(path, init));
  };
  return {
    service,
    log,
    driver,
    compute,
    baseUrl,
    call,
    async close() {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
      }
      await service.stop();
    },
  };
}

async function json(res: Response, status: number) {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${await res.text()}`);
  return res.status === 204 || res.headers.get('content-length') === '0' ? null : res.json();
}

/** A volume through the API, attached to an instance when `attached` (assisted snapshots). */
export async function createVolume(t: TestService, name: string, attached: boolean): Promise<string> {
  const { volume } = await json(await t.call('POST', `/v3/${PROJECT}/volumes`, { volume: { size: 1, name } }), 202);
  // Cinder's create is asynchronous: the runner has the driver create it.
  const settled = await t.log.volumeReached(volume.id, ['available', 'error']);
  if (settled.toPhase !== 'available') throw new Error(`volume ${volume.id} ended ${settled.toPhase}`);
  if (attached) {
    const res = await t.call('POST', `/v3/${PROJECT}/volumes/${volume.id}/action`, {
      'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' },
    });
    if (res.status !== 202) throw new Error(`os-attach: HTTP ${res.status}: ${await res.text()}`);
  }
  return volume.id;
}

export async function createSnapshot(t: TestService, volumeId: string, name: string): Promise<string> {
  const { snapshot } = await json(await t.call('POST', `/v3/${PROJECT}/snapshots`, { snapshot: { volume_id: volumeId, name, force: true } }), 202);
  return snapshot.id;
}

export const callback = (t: TestService, snapshotId: string, update: Record<string, string>) =>
  t.call('POST', `/v3/${PROJECT}/snapshots/${snapshotId}/action`, { 'os-update_snapshot_status': update });
