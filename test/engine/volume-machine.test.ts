// The volume machine through the engine (src/engine/volume-committer.ts, store/commit-volume-step.ts)
// on both providers: one transaction per event with its history row and its job, the version
// guard between racing writers, a job's stale result refused and recorded, and the rules that
// coordinate volumes with their snapshots through the database.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { VolumeManager } from '../../src/manager/volume-manager.js';
import { defaultLimits } from '../../src/config.js';
import { providers } from '../support/databases.js';
import { createdVolume, runVolumeJobs, volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('volume machine in the engine on %s', (provider) => {
  const { setup } = engineFixture(provider);
  const lines = async (h: Awaited<ReturnType<typeof setup>>, id: string) =>
    (await h.manager.volumeTransitions(id)).map((t) => `${t.version} ${t.fromPhase ?? '-'} -> ${t.toPhase} [${t.eventType}/${t.source}]${t.rejected ? ` REJECTED: ${t.reason}` : ''}`);

  it('commits a create with its history row and its driver job, and the job result with the version guard', async () => {
    const h = await setup();
    const requested = await h.manager.createVolume({ projectId: 'project-a', userId: 'user-a', size: 1 });
    const jobs = await h.db.prisma.outboxJob.findMany({ where: { volumeId: requested.id } });
    expect(jobs.map((j) => [j.kind, j.phase, j.version, j.status, j.snapshotId])).toEqual([['createVolume', 'creating', 1, 'pending', null]]);

    // An admin resets the volume before the driver ran: the job's result belongs to a visit that
    // was abandoned, so it is refused as stale, recorded, and its job cancelled.
    await h.manager.resetVolumeStatus(requested.id, { status: 'error' });
    const volume = (await h.engine.store.loadVolumes([requested.id])).get(requested.id)!;
    const report = await h.worker.runVolumeJob({ ...jobs[0]!, status: 'pending', attempts: 1 }, { ...volume, phase: 'creating', version: 1 });
    expect(report.outcome).toMatchObject({ kind: 'rejected', reason: 'stale storage.done: its job was queued at version 1, the volume is at version 2 (error)' });
    expect((await h.db.prisma.outboxJob.findUniqueOrThrow({ where: { id: jobs[0]!.id } })).status).toBe('cancelled');
    expect(await lines(h, requested.id)).toEqual([
      '1 - -> creating [volume.create/api]',
      '2 creating -> error [os-reset_status/admin]',
      '2 error -> error [storage.done/driver] REJECTED: stale storage.done: its job was queued at version 1, the volume is at version 2 (error)',
    ]);
    // The worker itself cancels a job whose volume left its phase, without running the driver.
    const again = await h.manager.createVolume({ projectId: 'project-a', userId: 'user-a', size: 1 });
    await h.manager.deleteVolume(again.id, true);
    const reports = await h.worker.drain();
    expect(reports.map((r) => [r.kind, r.result])).toEqual([
      ['createVolume', 'cancelled'],
      ['deleteVolume', 'ran'],
    ]);
    await expect(h.manager.getVolume(again.id)).rejects.toThrow(NotFound);
  });

  it('closes a job once: a late second answer to a job already done leaves its outcome as it was', async () => {
    const h = await setup();
    const requested = await h.manager.createVolume({ projectId: 'project-a', userId: 'user-a', size: 1 });
    const [job] = await h.db.prisma.outboxJob.findMany({ where: { volumeId: requested.id } });
    await h.worker.drain();
    const closed = await h.db.prisma.outboxJob.findUniqueOrThrow({ where: { id: job!.id } });
    expect([closed.status, closed.lastError]).toEqual(['done', null]);
    // A second worker ran the same job after the first one's lease ran out; its answer comes last.
    const late = await h.engine.volumes.deliver({
      volumeId: requested.id,
      event: { type: 'storage.done', phase: 'creating' },
      source: 'driver',
      completesJob: job!.id,
      expectedVersion: 1,
    });
    expect(late).toMatchObject({ kind: 'rejected', reason: 'stale storage.done: its job was queued at version 1, the volume is at version 2 (available)' });
    expect(await h.db.prisma.outboxJob.findUniqueOrThrow({ where: { id: job!.id } })).toEqual(closed);
  });

  it('lets exactly one of two racing engines move a volume; the loser is judged on the new row and recorded', async () => {
    const h = await setup();
    // A second engine on the same database: another process.
    const other = new VolumeManager(new Engine(h.db, { clock: h.clock.now }), h.driver, defaultLimits);
    for (let round = 0; round < 6; round++) {
      const volume = await volumeFor(h, false);
      const results = await Promise.allSettled([h.manager.reserveVolume(volume.id), other.reserveVolume(volume.id)]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toEqual(new InvalidRequest('Invalid volume: Volume status must be available to reserve, but current status is: attaching.'));
      const row = await h.manager.getVolume(volume.id);
      expect([row.status, row.version]).toEqual(['attaching', 3]);
      expect((await lines(h, volume.id)).slice(2)).toEqual([
        '3 available -> attaching [os-reserve/api]',
        '3 attaching -> attaching [os-reserve/api] REJECTED: os-reserve not allowed in phase attaching (status attaching)',
      ]);
    }
  });

  it('refuses to delete a volume with snapshots, forced or not, and a snapshot of a volume being deleted', async () => {
    const h = await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    for (const force of [false, true]) {
      await expect(h.manager.deleteVolume(volume.id, force)).rejects.toThrow(`Invalid volume: Volume ${volume.id} still has 1 dependent snapshots.`);
    }
    expect((await h.manager.getVolume(volume.id)).status).toBe('available');
    await h.worker.drain();
    await h.manager.deleteSnapshot(snap.id);
    await h.worker.drain();
    await h.manager.deleteVolume(volume.id);
    // Deleting: the volume's status is no longer one a snapshot is taken from.
    await expect(h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true })).rejects.toThrow(/status must be available or in-use, but is deleting/);
    await runVolumeJobs(h, volume.id);
    expect((await lines(h, volume.id)).map((l) => l.replace(/: .*$/, ''))).toEqual([
      '1 - -> creating [volume.create/api]',
      '2 creating -> available [storage.done/driver]',
      '2 available -> available [volume.delete/api] REJECTED',
      '2 available -> available [os-force_delete/admin] REJECTED',
      '3 available -> deleting [volume.delete/api]',
      '4 deleting -> deleted [storage.done/driver]',
    ]);
  });

  it('refuses a detach while a snapshot of the volume is being created or deleted, and allows it after', async () => {
    const h = await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    // The assisted create waits for compute: the snapshot is creating.
    await h.worker.drain();
    expect((await h.manager.getSnapshot(snap.id)).phase).toBe('creating.computeAssisted');
    await expect(h.manager.beginDetaching(volume.id)).rejects.toThrow(
      new InvalidRequest(`Invalid volume: Unable to begin detaching volume ${volume.id}: snapshot operation in progress on the volume: ${snap.id} (creating).`),
    );
    await expect(h.manager.detachVolume(volume.id)).rejects.toThrow(
      new InvalidRequest(`Invalid volume: Unable to detach volume ${volume.id}: snapshot operation in progress on the volume: ${snap.id} (creating).`),
    );
    const row = await h.manager.getVolume(volume.id);
    expect([row.status, row.attachStatus, row.attachments.length]).toEqual(['in-use', 'attached', 1]);
    const refused = (await h.manager.volumeTransitions(volume.id)).filter((t) => t.rejected);
    expect(refused.map((t) => [t.eventType, t.reason])).toEqual([
      ['os-begin_detaching', `snapshot operation in progress on the volume: ${snap.id} (creating)`],
      ['os-detach', `snapshot operation in progress on the volume: ${snap.id} (creating)`],
    ]);

    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' });
    await h.worker.drain();
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('available');
    await h.manager.beginDetaching(volume.id);
    await h.manager.detachVolume(volume.id);
    expect((await h.manager.getVolume(volume.id)).status).toBe('available');
  });

  it('answers not found for a deleted volume, but still records a late job result against it', async () => {
    const h = await setup();
    const volume = await createdVolume(h, { projectId: 'project-a', userId: 'user-a', size: 1 });
    await h.manager.deleteVolume(volume.id);
    const [job] = await h.db.prisma.outboxJob.findMany({ where: { volumeId: volume.id, status: 'pending' } });
    await runVolumeJobs(h, volume.id);
    await expect(h.manager.reserveVolume(volume.id)).rejects.toThrow(new NotFound(`Volume ${volume.id} could not be found.`));
    const late = await h.engine.volumes.deliver({ volumeId: volume.id, event: { type: 'storage.done', phase: 'deleting' }, source: 'driver', completesJob: job!.id, expectedVersion: 3 });
    expect(late).toMatchObject({ kind: 'rejected', status: 'deleted', reason: 'stale storage.done: its job was queued at version 3, the volume is at version 4 (deleted)' });
  });
});
