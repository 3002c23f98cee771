// `npm run bench`: the engine's own cost, then start time and idle memory of the real service,
// compiled and under tsx, with 100,000 rows (bench/startup.ts), then the HTTP load on it
// (bench/http.ts), then 1, 2 and 3 instances on one PostgreSQL (bench/cluster.ts).
//
// Engine part: full assisted creates (storage begin, compute request, callback, storage
// complete: four transitions and three effects each) with an effect-free driver and a compute
// that calls back at once, on a fresh SQLite file and a fresh PostgreSQL database. Creates come
// from 64 concurrent callers over 32 volumes; the worker runs as the service runs it (Runner,
// WORKER_CONCURRENCY's default), so the figures are orchestration cost: machine steps, group
// commits, outbox claims.
//   npm run bench -- [--creates 2000] [--engine-only] [--no-startup] [any bench/http.ts option]
// (--provider and --admin-url are handed to bench/startup.ts as well.)
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import type { ComputeClient } from '../src/compute/compute-client.js';
import { openDatabase } from '../src/db/client.js';
import { migrateDeploy } from '../src/db/migrate.js';
import { Engine } from '../src/engine/engine.js';
import { OutboxWorker } from '../src/engine/outbox-worker.js';
import { Runner } from '../src/engine/runner.js';
import type { CommittedTransition } from '../src/engine/types.js';
import { VolumeManager } from '../src/manager/volume-manager.js';
import { assistedDriver } from './seed.js';
import { defaultLeaseMs, defaultLimits } from '../src/config.js';

const { values: args } = parseArgs({
  options: {
    creates: { type: 'string', default: '2000' },
    'engine-only': { type: 'boolean', default: false },
    'no-startup': { type: 'boolean', default: false },
    'admin-url': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    provider: { type: 'string' },
  },
  strict: false,
});
const count = Number(args.creates);
const adminUrl = String(args['admin-url']);
const VOLUMES = 32;
const CALLERS = 64;

const driver = assistedDriver;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

async function bench(url: string) {
  await migrateDeploy(url);
  const db = await openDatabase(url);
  const engine = new Engine(db);
  const manager = new VolumeManager(engine, driver, defaultLimits);
  const callbackMs: number[] = [];
  // Compute answers its request with the callback Nova sends when done, as soon as asked.
  const compute: ComputeClient = {
    requestCreate: async (_volumeId, info) => {
      const t = performance.now();
      setImmediate(() =>
        void manager
          .updateSnapshotStatus(String(info.snapshot_id), { status: 'creating', computeSnapshotStatus: 'complete', computeProgress: '100%' })
          .then(() => callbackMs.push(performance.now() - t)),
      );
    },
    requestDelete: async () => {},
  };
  const worker = new OutboxWorker(engine, driver, compute, { leaseMs: defaultLeaseMs });
  const runner = new Runner(engine, worker, { concurrency: 16, onError: (err) => console.error(err) });
  const volumes: string[] = [];
  for (let i = 0; i < VOLUMES; i++) {
    const v = await manager.createVolume({ projectId: 'bench', userId: 'bench', size: 1 });
    // Cinder's create is asynchronous: the driver's job makes the volume available.
    await worker.drain();
    await manager.attachVolume(v.id, { instanceUuid: randomUUID(), mountpoint: '/dev/vdb' });
    volumes.push(v.id);
  }
  runner.start();
  const rssBefore = process.memoryUsage().rss;
  let available = 0;
  const done = new Promise<void>((resolve) => {
    engine.events.on('transition', (t: CommittedTransition) => {
      if (t.toStatus === 'available' && ++available === count) resolve();
    });
  });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (next < count) {
        const i = next++;
        await manager.createSnapshot({ volumeId: volumes[i % VOLUMES], projectId: 'bench', userId: 'bench', force: true });
      }
    }),
  );
  await done;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  const transitions = await db.prisma.snapshotTransition.count();
  const result = {
    provider: db.provider,
    creates: count,
    seconds: Number(seconds.toFixed(2)),
    'creates/s': Math.round(count / seconds),
    'transitions/s': Math.round(transitions / seconds),
    'callback→complete p50 ms': Number(quantile(callbackMs, 0.5).toFixed(1)),
    'callback→complete p99 ms': Number(quantile(callbackMs, 0.99).toFixed(1)),
    'RSS growth MiB': Number(((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)),
  };
  await db.close();
  return result;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-'));
const pgName = `bench_${process.pid}`;
const admin = new pg.Client({ connectionString: adminUrl });
const results = [];
try {
  results.push(await bench(`file:${join(dir, 'bench.db')}`));
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pgName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${pgName}`;
  results.push(await bench(url.toString()));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`).catch(() => {});
  await admin.end().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
console.log('\nEngine: full assisted creates (4 transitions, 3 effects each), effect-free driver and compute');
console.table(results);

if (!args['engine-only']) {
  const tsx = (file: string, argv: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, file), ...argv], { stdio: 'inherit' }).status ?? 1;
  if (!args['no-startup']) {
    const provider = typeof args.provider === 'string' ? ['--provider', args.provider] : [];
    const status = tsx('startup.ts', [...provider, '--admin-url', adminUrl]);
    if (status !== 0) process.exit(status);
  }
  // The HTTP load runs the service as its own process; the remaining options are its own.
  const rest: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--engine-only' || argv[i] === '--no-startup' || argv[i].startsWith('--creates=')) continue;
    if (argv[i] === '--creates') {
      i++;
      continue;
    }
    rest.push(argv[i]);
  }
  const status = tsx('http.ts', rest);
  if (status !== 0) process.exit(status);
  // Last, N instances on one PostgreSQL (bench/cluster.ts): callbacks/s, p99 and handoff latency.
  process.exit(tsx('cluster.ts', ['--admin-url', adminUrl]));
}
