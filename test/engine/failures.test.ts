// A refusal from compute or a failed driver phase puts the snapshot in error, with the reason.
import { describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('failures on %s', (provider) => {
  const { setup } = engineFixture(provider);

  it('puts the snapshot in error with the reason when compute refuses the request', async () => {
    const h = await setup();
    h.compute.refuseNext.push('create');
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason]).toEqual(['error', 'compute_refused: compute refused the create request (400)']);
  });

  it('puts the snapshot in error when a driver phase fails', async () => {
    const h = await setup();
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
});
