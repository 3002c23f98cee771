// One service core on one database, assembled the way src/ does, with test doubles at the edges.
import { openDatabase, type Db } from '../../src/db/client.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { OutboxWorker } from '../../src/engine/outbox-worker.js';
import { sweepDeadlines } from '../../src/engine/deadline-sweeper.js';
import { defaultLimits } from '../../src/config.js';
import { VolumeManager, type Limits } from '../../src/manager/volume-manager.js';
import { ManualClock, TestCompute, TestDriver } from './doubles.js';

export interface Harness {
  db: Db;
  clock: ManualClock;
  engine: Engine;
  driver: TestDriver;
  compute: TestCompute;
  worker: OutboxWorker;
  manager: VolumeManager;
  sweep: () => ReturnType<typeof sweepDeadlines>;
  close: () => Promise<void>;
}

export async function harness(
  url: string,
  opts: { clock?: ManualClock; driver?: TestDriver; compute?: TestCompute; engine?: EngineOptions; leaseMs?: number; limits?: Partial<Limits> } = {},
): Promise<Harness> {
  const db = await openDatabase(url);
  const clock = opts.clock ?? new ManualClock();
  const engine = new Engine(db, { clock: clock.now, ...opts.engine });
  const driver = opts.driver ?? new TestDriver();
  const compute = opts.compute ?? new TestCompute();
  const worker = new OutboxWorker(engine, driver, compute, { leaseMs: opts.leaseMs ?? 60_000 });
  const manager = new VolumeManager(engine, driver, { ...defaultLimits, ...opts.limits }, { guestPause: { supported: compute.guest !== undefined, byDefault: false } });
  return { db, clock, engine, driver, compute, worker, manager, sweep: () => sweepDeadlines(engine), close: () => db.close() };
}

/**
 * A volume created as the API creates one (committed `creating`), and its driver job run: the
 * volume as it is once `available` (or in error, if the driver refused).
 */
export async function createdVolume(h: Harness, input: Parameters<VolumeManager['createVolume']>[0]) {
  const created = await h.manager.createVolume(input);
  await runVolumeJobs(h, created.id);
  return h.manager.reads.volume(created.id);
}

/** Runs the queued jobs of one volume's machine (its create or delete), leaving other jobs queued. */
export async function runVolumeJobs(h: Harness, volumeId: string) {
  const jobs = await h.db.prisma.outboxJob.findMany({ where: { volumeId, status: 'pending' }, orderBy: { id: 'asc' } });
  for (const job of jobs) {
    const claimed = await h.db.prisma.outboxJob.update({ where: { id: job.id }, data: { attempts: { increment: 1 } } });
    const volume = (await h.engine.store.loadVolumes([volumeId])).get(volumeId);
    await h.worker.runVolumeJob({ ...claimed, status: 'pending' }, volume);
  }
}

/** Deletes a volume as the API does, and runs the driver's delete: the volume is gone after. */
export async function deletedVolume(h: Harness, volumeId: string, force = false) {
  await h.manager.deleteVolume(volumeId, force);
  await runVolumeJobs(h, volumeId);
}

/** A volume, attached to an instance when `attached`, ready to be snapshotted. */
export async function volumeFor(h: Harness, attached: boolean, projectId = 'project-a') {
  const volume = await createdVolume(h, { projectId, userId: 'user-a', size: 1, name: 'vol' });
  if (attached) await h.manager.attachVolume(volume.id, { instanceUuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdb' });
  return volume;
}
