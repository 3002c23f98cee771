// Rows by id as the manager's callers see them (src/manager/reads.ts): a deleted row is not
// found, while its history and owner outlive it.
import { afterEach, describe, expect, it } from 'vitest';
import { NotFound } from '../../src/manager/errors.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, volumeFor, type Harness, deletedVolume } from '../support/harness.js';

const MISSING = '00000000-0000-0000-0000-000000000000';

describe.each(providers)('manager reads on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('reads a volume with its live attachments only, and not once it is deleted (its history and owner outlive it)', async () => {
    h = await harness(await freshDatabaseUrl(provider));
    const volume = await volumeFor(h, true);
    const [attachment] = (await h.manager.reads.volume(volume.id)).attachments;
    expect(attachment).toMatchObject({ volumeId: volume.id, attachStatus: 'attached' });
    await h.manager.detachVolume(volume.id);
    expect((await h.manager.reads.volume(volume.id)).attachments).toEqual([]);
    expect((await h.manager.reads.liveVolume(volume.id)).status).toBe('available');
    await deletedVolume(h, volume.id);
    await expect(h.manager.reads.volume(volume.id)).rejects.toThrow(new NotFound(`Volume ${volume.id} could not be found.`));
    await expect(h.manager.reads.liveVolume(volume.id)).rejects.toThrow(NotFound);
    await expect(h.manager.reads.volume(MISSING)).rejects.toThrow(NotFound);
    expect(await h.manager.reads.volumeOwner(volume.id)).toEqual({ projectId: 'project-a', userId: 'user-a' });
    expect((await h.manager.reads.volumeTransitions(volume.id)).filter((t) => !t.rejected).map((t) => t.toPhase).at(-1)).toBe('deleted');
    expect(await h.manager.reads.volumeOwner(MISSING)).toBeNull();
    expect(await h.manager.reads.volumeTransitions(MISSING)).toEqual([]);
  });

  it("keeps a deleted snapshot's history and owner, but not the snapshot", async () => {
    h = await harness(await freshDatabaseUrl(provider));
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', metadata: { k: 'v' } });
    await h.worker.drain();
    expect(await h.manager.reads.snapshot(snap.id)).toMatchObject({ id: snap.id, status: 'available' });
    expect(await h.manager.reads.metadata(snap.id)).toEqual({ k: 'v' });
    expect(await h.manager.reads.adminMetadata(snap.id)).toEqual({});
    await h.manager.deleteSnapshot(snap.id);
    await h.worker.drain();
    await expect(h.manager.reads.snapshot(snap.id)).rejects.toThrow(new NotFound(`Snapshot ${snap.id} could not be found.`));
    expect(await h.manager.reads.snapshotOwner(snap.id)).toEqual({ projectId: 'project-a', userId: 'user-a' });
    expect((await h.manager.reads.transitions(snap.id)).map((t) => [t.version, t.eventType])).toEqual([
      [1, 'snapshot.create'],
      [2, 'storage.done'],
      [3, 'snapshot.delete'],
      [4, 'storage.done'],
    ]);
    expect(await h.manager.reads.snapshotOwner(MISSING)).toBeNull();
    expect(await h.manager.reads.transitions(MISSING)).toEqual([]);
  });
});
