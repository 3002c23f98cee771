// Events and commands the service refuses: a callback the machine no longer accepts is refused
// as Cinder would and recorded as a rejected transition; a create that cannot start writes nothing.
import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../src/manager/errors.js';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('rejections on %s', (provider) => {
  const { setup } = engineFixture(provider);

  it('accepts the legacy "90%" callback of an unmodified Nova and refuses its duplicate as Cinder would', async () => {
    const h = await setup();
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
    const h = await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'complete' });
    const dup = h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'complete' });
    await expect(dup).rejects.toBeInstanceOf(InvalidRequest);
    await expect(dup).rejects.toThrow(/not accepted in phase creating.storageComplete/);
    expect((await h.manager.getSnapshot(snap.id)).phase).toBe('creating.storageComplete');
  });

  it('refuses to snapshot an in-use volume without force', async () => {
    const h = await setup();
    const volume = await volumeFor(h, true);
    await expect(h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' })).rejects.toThrow(/force=true/);
    expect(await h.db.prisma.snapshot.count()).toBe(0);
  });
});
