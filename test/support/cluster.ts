// Several instances of the service as real processes on one PostgreSQL database and one share,
// each with the settings `npm run cluster` gives it (scripts/cluster.ts instanceEnv), started with
// `npm start`'s own command; and a stand-in Nova that accepts the assisted-snapshot requests and
// lets the test play the hypervisor (send the callbacks, to any instance).
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { instanceEnv } from '../../scripts/cluster.js';
import { startCommand } from '../../scripts/start-command.js';
import { ServiceProcess, HEADERS } from './e2e.js';
import { freePort } from './ports.js';

export interface ClusterOptions {
  databaseUrl: string;
  share: string;
  computeUrl: string;
  /** Settings for every instance (WORKER_POLL_MS, WORKER_LEASE_SECONDS, …). */
  env?: Record<string, string>;
}

/** Instance `index` (1-based) of a cluster; resolves once it listens. */
export async function startInstance(index: number, o: ClusterOptions): Promise<ServiceProcess> {
  const how = startCommand();
  const port = await freePort();
  const env = {
    ...instanceEnv({ index, databaseUrl: o.databaseUrl, basePort: port - index + 1, share: o.share, driver: 'remotefs' }),
    COMPUTE_URL: o.computeUrl,
    LOG_LEVEL: 'info',
    ...o.env,
  };
  const child = spawn(how.command, how.args, { env: { ...process.env, ...how.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const service = new ServiceProcess(child, port, o.share);
  await service.waitFor((l) => l.msg === 'listening', 'listening', 60_000);
  return service;
}

/** `count` instances, started at once (their migration check and listeners race, as in production). */
export function startCluster(count: number, o: ClusterOptions): Promise<ServiceProcess[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startInstance(i + 1, o)));
}

export interface ComputeRequest {
  method: 'POST' | 'DELETE';
  volumeId: string | null;
  snapshotId: string;
  body: unknown;
}

/**
 * Nova's os-assisted-volume-snapshots, as far as this service calls it: records every request and
 * hands it to `onRequest`, which decides the answer (default 200 at once) and may hold it open.
 */
export class StandInNova {
  readonly requests: ComputeRequest[] = [];
  private server!: Server;
  onRequest: (r: ComputeRequest) => Promise<number> | number = () => 200;

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v2.1`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url!, 'http://nova');
    let request: ComputeRequest;
    if (req.method === 'POST' && url.pathname === '/v2.1/os-assisted-volume-snapshots') {
      const body = JSON.parse(text) as { snapshot: { volume_id: string; create_info: { snapshot_id: string } } };
      request = { method: 'POST', volumeId: body.snapshot.volume_id, snapshotId: body.snapshot.create_info.snapshot_id, body };
    } else if (req.method === 'DELETE' && url.pathname.startsWith('/v2.1/os-assisted-volume-snapshots/')) {
      request = { method: 'DELETE', volumeId: null, snapshotId: decodeURIComponent(url.pathname.split('/').pop()!), body: url.searchParams.get('delete_info') };
    } else {
      res.writeHead(404).end();
      return;
    }
    this.requests.push(request);
    let status = 500;
    try {
      status = await this.onRequest(request);
    } finally {
      if (!res.destroyed) {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status < 300 && request.method === 'POST' ? { snapshot: { id: null, volumeId: request.volumeId } } : {}));
      }
    }
  }
}

/** The hypervisor's word that the live part of a create is done (an unmodified Nova's form). */
export async function sendCreateDone(instance: ServiceProcess, snapshotId: string): Promise<Response> {
  return fetch(`${instance.base}/snapshots/${snapshotId}/action`, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({ 'os-update_snapshot_status': { status: 'creating', progress: '90%' } }),
  });
}

/**
 * A volume created through `instance`, attached to an instance (so its snapshots are assisted).
 * The create is asynchronous and its job may run on any of `cluster`, so the attach waits for
 * whichever instance logs the volume settling.
 */
export async function attachedVolume(instance: ServiceProcess, name: string, cluster: readonly ServiceProcess[] = [instance]): Promise<string> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${instance.base}${path}`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const id = (await post('/volumes', { volume: { size: 1, name } })).volume.id as string;
  const { phase } = await Promise.any(cluster.map((i) => i.volumeSettled(id, ['available', 'error'], 60_000)));
  if (phase !== 'available') throw new Error(`volume ${id} settled in ${phase}`);
  await post(`/volumes/${id}/action`, { 'os-attach': { instance_uuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdb' } });
  return id;
}
