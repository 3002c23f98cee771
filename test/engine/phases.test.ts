// Which phases a create and a delete run through: an attached volume with an assisted driver
// goes storage-begin, compute, storage-complete (with the compute wait's deadline); a detached
// volume, or a driver without assisted support, takes one driver phase.
import { describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('create and delete phases on %s', (provider) => {
  const { setup, history } = engineFixture(provider);

  it('runs an online create through storage-begin, compute and storage-complete (new callback form)', async () => {
    const h = await setup();
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

  it('snapshots a detached volume with one driver phase and deletes it the same way', async () => {
    const h = await setup();
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
    const h = await setup({ driver: new TestDriver(false) });
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    expect(snap.phase).toBe('creating.driverCreate');
  });

  it('deletes online with the 7200 s default deadline, and a compute error leaves error_deleting', async () => {
    const h = await setup();
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
});
