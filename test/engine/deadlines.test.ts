// Deadlines are rows: the sweeper expires a compute wait from the database's deadline, not from a
// timer; the snapshot is then reconciled with the files, and what compute says after that is refused.
import { describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('deadlines on %s', (provider) => {
  const { setup, history } = engineFixture(provider);

  it('times out a compute wait from the database deadline into reconciling; after an unverified verdict late callbacks are refused', async () => {
    const h = await setup({ engine: { computeWaitSeconds: { create: 30 } } });
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    h.clock.advance(29);
    expect(await h.sweep()).toEqual([]);
    h.clock.advance(1);
    const [outcome] = await h.sweep();
    expect(outcome).toMatchObject({ kind: 'accepted', toStatus: 'creating', toPhase: 'creating.reconciling', effects: ['reconcileCreate'] });
    expect((await h.manager.getSnapshot(snap.id)).deadlineAt).toBeNull();
    // Nothing queued: the test driver cannot tell.
    await h.worker.drain();
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason, row.deadlineAt]).toEqual(['error', 'compute_timeout_unverified: test driver says unverified', null]);
    await expect(h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' })).rejects.toThrow(
      'Snapshot status error not allowed for update_snapshot_status',
    );
    expect((await history(snap.id)).slice(-3)).toEqual([
      '3 creating.computeAssisted -> creating.reconciling [timer.expired/timer]',
      '4 creating.reconciling -> error [storage.reconciled/driver]',
      '4 error -> error [compute.status/compute] REJECTED',
    ]);
  });
});
