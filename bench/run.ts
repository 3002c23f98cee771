// `npm run bench`: how fast the engine turns events into committed transitions, on a fresh
// SQLite file and a fresh PostgreSQL database. Each snapshot goes through the full assisted
// create (3 phases, a compute request, a callback) with effect-free driver and compute, so the
// figures are the orchestration's own cost: machine step + versioned transaction + outbox.
//   npm run bench -- [snapshots=300] [postgresUrl=postgresql://postgres@127.0.0.1:5432/postgres]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ComputeClient } from '../src/compute/compute-client.js';
import { openDatabase } from '../src/db/client.js';
import { migrateDeploy } from '../src/db/migrate.js';
import { CREATE_INFO_KEY, type VolumeDriver } from '../src/drivers/driver.js';
import { Engine } from '../src/engine/engine.js';
import { OutboxWorker } from '../src/engine/outbox-worker.js';
import { VolumeManager } from '../src/manager/volume-manager.js';

const count = Number(process.argv[2] ?? 300);
const adminUrl = process.argv[3] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const driver: VolumeDriver = {
  name: 'bench',
  supportsAssistedSnapshots: true,
  createVolume: async () => ({}),
  deleteVolume: async () => {},
  createSnapshot: async () => ({}),
  deleteSnapshot: async () => ({}),
  createSnapshotAssistedBegin: async (s) => ({ adminMetadata: { [CREATE_INFO_KEY]: JSON.stringify({ snapshot_id: s.id, type: 'qcow2', new_file: 'f' }) } }),
  createSnapshotAssistedComplete: async () => ({}),
  deleteSnapshotAssistedBegin: async () => ({}),
  deleteSnapshotAssistedComplete: async () => ({}),
};
const compute: ComputeClient = { requestCreate: async () => {}, requestDelete: async () => {} };

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function bench(url: string) {
  await migrateDeploy(url);
  const db = await openDatabase(url);
  const engine = new Engine(db);
  const manager = new VolumeManager(engine, driver);
  const worker = new OutboxWorker(engine, driver, compute);
  const volume = await manager.createVolume({ projectId: 'bench', userId: 'bench', size: 1 });
  await manager.attachVolume(volume.id, { instanceUuid: randomUUID(), mountpoint: '/dev/vdb' });

  const callbackMs: number[] = [];
  const started = performance.now();
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < count; i++) {
    const s = await manager.createSnapshot({ volumeId: volume.id, projectId: 'bench', userId: 'bench', force: true });
    await worker.drain();
    const t = performance.now();
    await manager.updateSnapshotStatus(s.id, { status: 'creating', computeSnapshotStatus: 'complete', computeProgress: '100%' });
    callbackMs.push(performance.now() - t);
    await worker.drain();
  }
  const seconds = (performance.now() - started) / 1000;
  const transitions = await db.prisma.snapshotTransition.count();
  const result = {
    provider: db.provider,
    snapshots: count,
    transitions,
    seconds: Number(seconds.toFixed(2)),
    transitionsPerSecond: Math.round(transitions / seconds),
    snapshotsPerSecond: Number((count / seconds).toFixed(1)),
    callbackP50ms: Number(quantile(callbackMs, 0.5).toFixed(2)),
    callbackP95ms: Number(quantile(callbackMs, 0.95).toFixed(2)),
    rssGrowthMiB: Number(((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)),
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
console.table(results);
console.log(JSON.stringify(results));
