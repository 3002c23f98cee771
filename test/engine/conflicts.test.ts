// Optimistic concurrency: an event for a version that moved on is a conflict that changes
// nothing, and racing commands on one volume leave exactly one winner.
import { describe, expect, it } from 'vitest';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('conflicts on %s', (provider) => {
  const { setup } = engineFixture(provider);

  it('answers a stale expected version with a conflict and changes nothing', async () => {
    const h = await setup();
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

  it('never leaves a snapshot on a deleted volume when create and volume delete race', async () => {
    const h = await setup();
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
