import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { providers, freshDatabaseUrl } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';
import { ManualClock } from '../support/doubles.js';
import { OutboxWorker } from '../../src/engine/outbox-worker.js';

describe.each(providers)('snapshot lifecycle on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const setup = async (opts: Parameters<typeof harness>[1] = {}) => {
    h = await harness(await freshDatabaseUrl(provider), opts);
    return h;
  };
  const history = async (id: string) =>
    (await h.manager.transitions(id)).map((t) => `${t.version} ${t.fromPhase ?? '-'} -> ${t.toPhase} [${t.eventType}/${t.source}]${t.rejected ? ' REJECTED' : ''}`);

  it('runs an online create through storage-begin, compute and storage-complete (new callback form)', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true, name: 's1' });
    expect(snap.status).toBe('creating');
    expect(snap.phase).toBe('creating.storageBegin');

    await h.worker.drain();
    let row = await h.manager.getSnapshot(snap.id);
    expect(row.phase).toBe('creating.computeAssisted');
    expect(row.deadlineAt?.getTime()).toBe(h.clock.now().getTime() + 600_000);
    expect(h.compute.requests).toEqual([
      { op: 'create', id: snap.id, info: { snapshot_id: snap.id, type: 'qcow2', new_file: `volume-${volume.id}.${snap.id}` } },
    ]);

    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'in-progress', computeProgress: '40%' });
    row = await h.manager.getSnapshot(snap.id);
    expect([row.phase, row.progress]).toEqual(['creating.computeAssisted', '40%']);

    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'complete', computeProgress: '100%' });
    expect((await h.manager.getSnapshot(snap.id)).phase).toBe('creating.storageComplete');
    expect(await h.manager.adminMetadata(snap.id)).toMatchObject({ compute_snapshot_status: 'complete', compute_progress: '100%' });

    await h.worker.drain();
    row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.progress, row.deadlineAt, row.providerLocation]).toEqual(['available', '100%', null, `volume-${volume.id}.${snap.id}`]);
    // The driver's result for the volume lands on the volume's attachment in the same commit.
    const attachment = await h.db.prisma.volumeAttachment.findFirstOrThrow({ where: { volumeId: volume.id, deleted: false } });
    expect(JSON.parse(attachment.connectionInfo!)).toEqual({ driver_volume_type: 'test', data: { name: `volume-${volume.id}.${snap.id}` } });
    expect(await history(snap.id)).toEqual([
      '1 - -> creating.storageBegin [snapshot.create/api]',
      '2 creating.storageBegin -> creating.computeAssisted [storage.done/driver]',
      '3 creating.computeAssisted -> creating.computeAssisted [compute.status/compute]',
      '4 creating.computeAssisted -> creating.storageComplete [compute.status/compute]',
      '5 creating.storageComplete -> available [storage.done/driver]',
    ]);
  });

  it('accepts the legacy "90%" callback of an unmodified Nova and refuses its duplicate as Cinder would', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' });
    await h.worker.drain();
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('available');

    await expect(h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' })).rejects.toThrow(
      'Snapshot status available not allowed for update_snapshot_status',
    );
    const last = (await h.manager.transitions(snap.id)).at(-1)!;
    expect([last.rejected, last.version, last.toPhase, last.eventType]).toEqual([true, 4, 'available', 'compute.status']);
    expect((await h.manager.getSnapshot(snap.id)).version).toBe(4);
  });

  it('refuses a duplicate "complete" that arrives while storage completes, and records it', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'complete' });
    const dup = h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'complete' });
    await expect(dup).rejects.toBeInstanceOf(InvalidRequest);
    await expect(dup).rejects.toThrow(/not accepted in phase creating.storageComplete/);
    expect((await h.manager.getSnapshot(snap.id)).phase).toBe('creating.storageComplete');
  });

  it('snapshots a detached volume with one driver phase and deletes it the same way', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    expect(snap.phase).toBe('creating.driverCreate');
    await h.worker.drain();
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('available');
    await h.manager.deleteSnapshot(snap.id);
    expect((await h.manager.getSnapshot(snap.id)).phase).toBe('deleting.driverDelete');
    await h.worker.drain();
    await expect(h.manager.getSnapshot(snap.id)).rejects.toThrow('could not be found');
    const row = await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id: snap.id } });
    expect([row.status, row.deleted, row.deletedAt?.toISOString()]).toEqual(['deleted', true, h.clock.now().toISOString()]);
    expect(h.compute.requests).toEqual([]);
    expect(h.driver.journal.invocations().map((i) => i.op)).toEqual(['createSnapshot', 'deleteSnapshot']);
  });

  it('uses single-phase calls when the driver lacks assisted support, even for an attached volume', async () => {
    const { TestDriver } = await import('../support/doubles.js');
    await setup({ driver: new TestDriver(false) });
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    expect(snap.phase).toBe('creating.driverCreate');
  });

  it('refuses to snapshot an in-use volume without force', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    await expect(h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' })).rejects.toThrow(/force=true/);
    expect(await h.db.prisma.snapshot.count()).toBe(0);
  });

  it('times out a compute wait from the database deadline; late callbacks are refused', async () => {
    await setup({ engine: { computeWaitSeconds: { create: 30 } } });
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    h.clock.advance(29);
    expect(await h.sweep()).toEqual([]);
    h.clock.advance(1);
    const [outcome] = await h.sweep();
    expect(outcome).toMatchObject({ kind: 'accepted', toStatus: 'error', toPhase: 'error' });
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason, row.deadlineAt]).toEqual(['error', 'compute_timeout', null]);
    await expect(h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' })).rejects.toThrow(
      'Snapshot status error not allowed for update_snapshot_status',
    );
    expect((await history(snap.id)).slice(-2)).toEqual([
      '3 creating.computeAssisted -> error [timer.expired/timer]',
      '3 error -> error [compute.status/compute] REJECTED',
    ]);
  });

  it('deletes online with the 7200 s default deadline, and a compute error leaves error_deleting', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' });
    await h.worker.drain();
    await h.manager.deleteSnapshot(snap.id);
    await h.worker.drain();
    const row = await h.manager.getSnapshot(snap.id);
    expect(row.phase).toBe('deleting.computeAssisted');
    expect(row.deadlineAt?.getTime()).toBe(h.clock.now().getTime() + 7_200_000);
    expect(h.compute.requests.at(-1)).toMatchObject({ op: 'delete', id: snap.id, info: { type: 'qcow2', volume_id: volume.id } });
    await h.manager.updateSnapshotStatus(snap.id, { status: 'error_deleting' });
    const failed = await h.manager.getSnapshot(snap.id);
    expect([failed.status, failed.errorReason]).toEqual(['error_deleting', 'compute_error']);

    // error_deleting may be deleted again; this time compute finishes (new form).
    await h.manager.deleteSnapshot(snap.id);
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'deleting', computeSnapshotStatus: 'complete' });
    await h.worker.drain();
    expect((await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id: snap.id } })).status).toBe('deleted');
    // Admin metadata keys the driver cleared are soft-deleted; the volume's format is recorded.
    expect(await h.manager.adminMetadata(snap.id)).toEqual({ compute_snapshot_status: 'complete' });
    const format = await h.db.prisma.volumeAdminMetadata.findMany({ where: { volumeId: volume.id, deleted: false } });
    expect(format.map((m) => [m.key, m.value])).toEqual([['format', 'qcow2']]);
  });

  it('puts the snapshot in error with the reason when compute refuses the request', async () => {
    await setup();
    h.compute.refuseNext.push('create');
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason]).toEqual(['error', 'compute_refused: compute refused the create request (400)']);
  });

  it('puts the snapshot in error when a driver phase fails', async () => {
    await setup();
    h.driver.failNext.push('createSnapshotAssistedComplete');
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' });
    await h.worker.drain();
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason]).toEqual(['error', 'driver_error: injected failure in createSnapshotAssistedComplete']);
    const jobs = await h.db.prisma.outboxJob.findMany({ where: { snapshotId: snap.id }, orderBy: { id: 'asc' } });
    expect(jobs.map((j) => [j.kind, j.status])).toEqual([
      ['createSnapshotAssistedBegin', 'done'],
      ['requestComputeCreate', 'done'],
      ['createSnapshotAssistedComplete', 'done'],
    ]);
  });

  it('lets an admin reset and force-delete from any phase; work of the abandoned phase is cancelled, not run', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.manager.resetSnapshotStatus(snap.id, 'error');
    const reports = await h.worker.drain();
    expect(reports.map((r) => r.result)).toEqual(['cancelled']);
    expect(h.driver.journal.invocations()).toEqual([]);
    expect((await h.manager.getSnapshot(snap.id)).errorReason).toBe('reset_by_admin');
    await h.manager.forceDeleteSnapshot(snap.id);
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'deleting', progress: '90%' });
    await h.worker.drain();
    expect((await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id: snap.id } })).status).toBe('deleted');
  });

  it('answers a stale expected version with a conflict and changes nothing', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    const outcome = await h.engine.deliver({
      snapshotId: snap.id,
      event: { type: 'admin.reset_status', status: 'error' },
      source: 'admin',
      expectedVersion: 0,
    });
    expect(outcome).toEqual({ kind: 'conflict', snapshotId: snap.id, expectedVersion: 0, actualVersion: 1 });
    expect((await h.manager.getSnapshot(snap.id)).version).toBe(1);
    expect(await h.manager.transitions(snap.id)).toHaveLength(1);
  });

  it('lets only one worker hold a job, and hands it to another once the lease expires', async () => {
    const clock = new ManualClock();
    await setup({ clock, leaseMs: 10_000 });
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    const first = await h.worker.claim();
    expect(first?.kind).toBe('createSnapshot');
    const other = new OutboxWorker(h.engine, h.driver, h.compute, { leaseMs: 10_000 });
    expect(await other.claim()).toBeNull();
    clock.advance(11);
    const reports = await other.drain();
    expect(reports.map((r) => [r.kind, r.result])).toEqual([['createSnapshot', 'ran']]);
    const job = await h.db.prisma.outboxJob.findFirstOrThrow({ where: { snapshotId: snap.id } });
    expect([job.status, job.attempts]).toEqual(['done', 2]);
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('available');
  });

  it('never leaves a snapshot on a deleted volume when create and volume delete race', async () => {
    await setup();
    for (let round = 0; round < 8; round++) {
      const volume = await volumeFor(h, false);
      const [created, deleted] = await Promise.allSettled([
        h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' }),
        h.manager.deleteVolume(volume.id),
      ]);
      const v = await h.db.prisma.volume.findUniqueOrThrow({ where: { id: volume.id } });
      const live = await h.db.prisma.snapshot.count({ where: { volumeId: volume.id, deleted: false } });
      // Exactly one of the two wins; the other is refused (400, or 404 once the volume is gone).
      expect([created.status, deleted.status].sort()).toEqual(['fulfilled', 'rejected']);
      const loser = (created.status === 'rejected' ? created : deleted) as PromiseRejectedResult;
      expect(loser.reason instanceof InvalidRequest || loser.reason instanceof NotFound).toBe(true);
      expect(v.deleted && live > 0).toBe(false);
    }
  });
});
