// `npm run cluster -- --instances 3`: N instances of the service, active-active on one PostgreSQL
// database, each on its own port, for trying scale-out by hand (and the settings each needs, for
// the tests and the benchmark: instanceEnv). Every instance is `npm start`'s compiled command;
// their logs are interleaved on stdout, each line prefixed with the instance's name. Ctrl-C (or
// SIGTERM) drains and stops them all.
//
//   npm run cluster -- --instances 3 [--base-port 8776] [--database-url postgresql://…]
//                      [--share ./data/share] [--driver remotefs|bookkeeping]
//                      [--agent-port 8774] [--storage-url http://127.0.0.1:8080/v3/{project_id}]
//
// Front them with a load balancer (docs/haproxy.cfg is an example) for one endpoint. With the
// RemoteFS driver and no COMPUTE_URL, one compute agent (`npm run compute-agent`, Nova's stand-in)
// serves the whole cluster, as one Nova would: an embedded agent per instance would each know
// only the attachments made through it. It calls back --storage-url (default: instance 1; give
// the load balancer's address to spread the callbacks).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { urlHost } from '../src/lib/url-host.js';
import { ensureBuilt } from './build.js';
import { startCommand } from './start-command.js';

export const DEFAULT_CLUSTER_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/assisted_snapshots';

export interface InstanceSettings {
  /** 1-based. */
  index: number;
  databaseUrl: string;
  host?: string;
  /** Instance i listens on basePort + i - 1. */
  basePort: number;
  share: string;
  driver?: 'remotefs' | 'bookkeeping';
  /** Nova (or the cluster's one compute agent) for every instance; unset: each instance's embedded agent. */
  computeUrl?: string;
  /** The cluster's one compute agent's status extension, which reconcile reads for evidence. */
  agentStatusUrl?: string;
}

/**
 * The settings that differ between instances of one cluster: its port, and a WORKER_ID and SERVICE_HOST of its own. The WORKER_ID must be unique per instance: a starting instance frees
 * every lease held under its id (its dead predecessor's), so two sharing one would free each
 * other's running jobs. Everything else (database, share, waits, leases) is the same for all.
 */
export function instanceEnv(s: InstanceSettings): Record<string, string> {
  return {
    DATABASE_URL: s.databaseUrl,
    HOST: s.host ?? '127.0.0.1',
    PORT: String(s.basePort + s.index - 1),
    WORKER_ID: `${os.hostname()}-instance-${s.index}`,
    // Each instance its own cinder-scheduler and cinder-volume in os-services, with its own heartbeat.
    SERVICE_HOST: `${os.hostname()}-instance-${s.index}`,
    REMOTEFS_SHARE: s.share,
    VOLUME_DRIVER: s.driver ?? 'remotefs',
    ...(s.computeUrl ? { COMPUTE_URL: s.computeUrl } : {}),
    ...(s.agentStatusUrl ? { COMPUTE_AGENT_STATUS_URL: s.agentStatusUrl } : {}),
  };
}

/** Creates the database named by `url` if it does not exist (connecting to the `postgres` one). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // Another starter created it meanwhile (42P04 duplicate_database): fine.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '8776' },
      'agent-port': { type: 'string' },
      'storage-url': { type: 'string' },
      'database-url': { type: 'string', default: process.env.DATABASE_URL ?? DEFAULT_CLUSTER_DATABASE_URL },
      share: { type: 'string', default: process.env.REMOTEFS_SHARE ?? './data/share' },
      driver: { type: 'string', default: process.env.VOLUME_DRIVER ?? 'remotefs' },
    },
  });
  const count = Number(values.instances);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--instances must be a positive integer, not ${values.instances}`);
  const databaseUrl = values['database-url']!;
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('a cluster needs PostgreSQL: instances on one SQLite file take turns for every write and cannot wake each other');
  }
  if (values.driver !== 'remotefs' && values.driver !== 'bookkeeping') throw new Error(`--driver must be remotefs or bookkeeping, not ${values.driver}`);
  ensureBuilt();
  await ensureDatabase(databaseUrl);
  const how = startCommand();
  const basePort = Number(values['base-port']);
  const host = process.env.HOST ?? '127.0.0.1';
  const share = path.resolve(values.share!);
  const children: ChildProcess[] = [];
  const prefixOutput = (child: ChildProcess, name: string) => {
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
    child.on('exit', (code, signal) => process.stdout.write(`[${name}] exited (${code ?? signal})\n`));
    children.push(child);
  };
  let computeUrl = process.env.COMPUTE_URL;
  let agentStatusUrl: string | undefined;
  if (!computeUrl && values.driver === 'remotefs') {
    const agentPort = Number(values['agent-port'] ?? basePort - 2);
    const storageUrl = values['storage-url'] ?? `http://${urlHost(host)}:${basePort}/v3/{project_id}`;
    mkdirSync(share, { recursive: true });
    const agent = spawn(how.command, [path.join(path.dirname(how.entry), 'compute', 'agent', 'main.js'), '--share', share, '--host', host, '--port', String(agentPort), '--storage-url', storageUrl], {
      env: { ...process.env, ...how.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixOutput(agent, `compute-agent :${agentPort}`);
    agentStatusUrl = `http://${urlHost(host)}:${agentPort}`;
    computeUrl = `${agentStatusUrl}/v2.1`;
  }
  for (let index = 1; index <= count; index++) {
    const env = instanceEnv({
      index,
      databaseUrl,
      basePort,
      share,
      driver: values.driver,
      computeUrl,
      agentStatusUrl,
    });
    // All start at once: the migrations take turns under a lock (src/db/migrate.ts).
    const child = spawn(how.command, how.args, { env: { ...process.env, ...how.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    prefixOutput(child, `instance-${index} :${env.PORT}`);
  }
  process.stdout.write(`${computeUrl ? `compute (Nova) for all: ${computeUrl}; ` : ''}started ${count} instances on ${databaseUrl.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')}: ports ${basePort}-${basePort + count - 1}; Ctrl-C stops them\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const codes = await Promise.all(children.map((c) => new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))))));
  process.exit(codes.every((c) => c === 0) ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
