// Seeding for the HTTP benchmark (bench/http.ts): N snapshots that wait for compute's callback
// (phase creating.computeAssisted), written before the service process starts.
//
// One snapshot gets there the real way, in-process, as bench/run.ts does it (engine + volume
// manager + outbox worker, with an assisted driver and a compute client that do nothing); its
// row is then cloned in bulk (one INSERT … SELECT) with fresh ids (same volume, machine state, phase, status, version,
// deadline). Clones get no history, outbox or admin-metadata rows: a callback reads and writes
// only the snapshot row and appends history, so they behave like the original under load.
//
// Everything this file needs from src/ is imported here and nowhere else in bench/, so an engine
// API change means adapting this one file.
import { randomUUID } from 'node:crypto';
import type { ComputeClient } from '../src/compute/compute-client.js';
import { openDatabase, type Snapshot } from '../src/db/client.js';
import { migrateDeploy } from '../src/db/migrate.js';
import { CREATE_INFO_KEY, type VolumeDriver } from '../src/drivers/driver.js';
import { Engine } from '../src/engine/engine.js';
import { OutboxWorker } from '../src/engine/outbox-worker.js';
import type { OutboxStatus } from '../src/engine/store/rows.js';
import { VolumeManager } from '../src/manager/volume-manager.js';
import { defaultLeaseMs, defaultLimits } from '../src/config.js';

export { migrateDeploy };

export const WAITING_PHASE = 'creating.computeAssisted';

/**
 * How long the seeded snapshots may wait for compute. Far beyond any benchmark run, so the
 * service's deadline sweeper never times them out mid-measurement (the default is 600 s, which
 * a --large run can exceed). The service is started with the same COMPUTE_WAIT_CREATE_SECONDS.
 */
export const SEED_COMPUTE_WAIT_SECONDS = 7 * 24 * 3600;

export interface Seeded {
  projectId: string;
  volumeId: string;
  /** The row every clone copies (as it was right after the real create). */
  template: Snapshot;
  /** The original first, then the clones. */
  ids: string[];
}

/** Assisted and effect-free: begin hands compute its create_info, nothing else happens. */
export const assistedDriver: VolumeDriver = {
  name: 'bench-seed',
  supportsAssistedSnapshots: true,
  createVolume: async () => ({}),
  deleteVolume: async () => {},
  createSnapshot: async () => ({}),
  deleteSnapshot: async () => ({}),
  createSnapshotAssistedBegin: async (s) => ({
    adminMetadata: { [CREATE_INFO_KEY]: JSON.stringify({ snapshot_id: s.id, type: 'qcow2', new_file: `volume-${s.volumeId}.${s.id}` }) },
  }),
  createSnapshotAssistedComplete: async () => ({}),
  deleteSnapshotAssistedBegin: async () => ({}),
  deleteSnapshotAssistedComplete: async () => ({}),
};
const silentCompute: ComputeClient = { requestCreate: async () => {}, requestDelete: async () => {} };

/**
 * Migrates `url`, creates an attached volume and `count` snapshots waiting in
 * creating.computeAssisted (1 real, count - 1 clones). Closes its database client before returning.
 */
export async function seedWaitingSnapshots(url: string, count: number, projectId = 'bench'): Promise<Seeded> {
  await migrateDeploy(url);
  const db = await openDatabase(url);
  try {
    const engine = new Engine(db, { computeWaitSeconds: { create: SEED_COMPUTE_WAIT_SECONDS } });
    const manager = new VolumeManager(engine, assistedDriver, defaultLimits);
    const worker = new OutboxWorker(engine, assistedDriver, silentCompute, { leaseMs: defaultLeaseMs });
    const volume = await manager.createVolume({ projectId, userId: projectId, size: 1, name: 'bench-http' });
    await worker.drain(); // the volume's create job: available
    await manager.attachVolume(volume.id, { instanceUuid: randomUUID(), mountpoint: '/dev/vdb' });
    const created = await manager.createSnapshot({ volumeId: volume.id, projectId, userId: projectId, force: true, name: 'bench-http' });
    await worker.drain(); // storageBegin -> computeAssisted, then the (silent) compute request
    const template = await db.prisma.snapshot.findUniqueOrThrow({ where: { id: created.id } });
    if (template.phase !== WAITING_PHASE) throw new Error(`seed: snapshot ended in ${template.phase}, expected ${WAITING_PHASE}`);
    const pending = await db.prisma.outboxJob.count({ where: { status: 'pending' satisfies OutboxStatus } });
    if (pending !== 0) throw new Error(`seed: ${pending} outbox jobs still pending after drain`);
    const clones = await insertClones(db, template, count - 1);
    return { projectId, volumeId: volume.id, template, ids: [template.id, ...clones] };
  } finally {
    await db.close();
  }
}

/** Adds `count` more clones of `template` to an already seeded database. */
export async function addClones(url: string, template: Snapshot, count: number): Promise<string[]> {
  const db = await openDatabase(url);
  try {
    return await insertClones(db, template, count);
  } finally {
    await db.close();
  }
}

/**
 * Copies the template row `count` times with fresh v4 UUIDs in one INSERT … SELECT, the ids made
 * by the database (100,000 rows take seconds; through the client's createMany about a minute).
 * Every other column, whatever the schema holds, is the template's. Returns the new ids.
 */
async function insertClones(db: Awaited<ReturnType<typeof openDatabase>>, template: Snapshot, count: number): Promise<string[]> {
  if (count <= 0) return [];
  const idsOfVolume = async () =>
    (await db.prisma.snapshot.findMany({ where: { volumeId: template.volumeId }, select: { id: true } })).map((r) => r.id);
  const before = new Set(await idsOfVolume());
  const columns =
    db.provider === 'sqlite'
      ? (await db.prisma.$queryRawUnsafe<{ name: string }[]>(`SELECT name FROM pragma_table_info('snapshots')`)).map((c) => c.name)
      : (
          await db.prisma.$queryRawUnsafe<{ name: string }[]>(
            `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'snapshots' ORDER BY ordinal_position`,
          )
        ).map((c) => c.name);
  const copied = columns.filter((c) => c !== 'id').map((c) => `s."${c}"`);
  const list = ['"id"', ...columns.filter((c) => c !== 'id').map((c) => `"${c}"`)].join(', ');
  if (db.provider === 'sqlite') {
    const hex = (bytes: number) => `lower(hex(randomblob(${bytes})))`;
    const uuid = `${hex(4)} || '-' || ${hex(2)} || '-4' || substr(${hex(2)}, 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(${hex(2)}, 2) || '-' || ${hex(6)}`;
    await db.prisma.$executeRawUnsafe(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO snapshots (${list}) SELECT ${uuid}, ${copied.join(', ')} FROM snapshots s, n WHERE s.id = ?`,
      count,
      template.id,
    );
  } else {
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO snapshots (${list}) SELECT gen_random_uuid()::text, ${copied.join(', ')} FROM snapshots s, generate_series(1, $1::int) WHERE s.id = $2`,
      count,
      template.id,
    );
  }
  const ids = (await idsOfVolume()).filter((id) => !before.has(id));
  if (ids.length !== count) throw new Error(`seed: inserted ${ids.length} clones, expected ${count}`);
  return ids;
}

export interface Census {
  /** Live snapshot rows per phase. */
  phases: Record<string, number>;
  transitionsAccepted: number;
  transitionsRejected: number;
  outboxPending: number;
}

/** What the database holds after a run: to check the load left every snapshot waiting. */
export async function census(url: string): Promise<Census> {
  const db = await openDatabase(url);
  try {
    const phases = await db.prisma.snapshot.groupBy({ by: ['phase'], _count: { _all: true } });
    const transitionsAccepted = await db.prisma.snapshotTransition.count({ where: { rejected: false } });
    const transitionsRejected = await db.prisma.snapshotTransition.count({ where: { rejected: true } });
    const outboxPending = await db.prisma.outboxJob.count({ where: { status: 'pending' satisfies OutboxStatus } });
    return {
      phases: Object.fromEntries(phases.map((p) => [p.phase, p._count._all])),
      transitionsAccepted,
      transitionsRejected,
      outboxPending,
    };
  } finally {
    await db.close();
  }
}

/**
 * A read-only look at the database while the service runs: how many history rows exist. Every
 * callback the service finishes appends one (accepted or rejected), so a count that stops moving
 * means the service has finished the requests a load run left in flight.
 */
export async function openActivityProbe(url: string) {
  const db = await openDatabase(url);
  return {
    historyRows: () => db.prisma.snapshotTransition.count(),
    close: () => db.close(),
  };
}
