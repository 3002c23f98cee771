// User metadata of snapshots and volumes (src/manager/user-metadata.ts): POST merges, PUT
// replaces, a removed key is soft-deleted and can be set again, removing a key that is not there
// is a 404, and no write leaves more items than METADATA_MAX_ITEMS, even when writers race. A
// volume in maintenance refuses changes to its metadata, as Cinder's does.
import { afterEach, describe, expect, it } from 'vitest';
import { Forbidden, InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { createdVolume, harness, runVolumeJobs, volumeFor, type Harness } from '../support/harness.js';

describe.each(providers)('snapshot metadata on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const snapshot = async (limits?: { maxMetadataItems: number }) => {
    h = await harness(await freshDatabaseUrl(provider), limits ? { limits } : {});
    const volume = await volumeFor(h, false);
    return h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', metadata: { a: '1' } });
  };
  const items = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));

  it('merges, replaces and answers with the whole metadata in key order', async () => {
    const snap = await snapshot();
    expect(await h.manager.setSnapshotMetadata(snap.id, { c: '3', b: '2' }, false)).toEqual({ a: '1', b: '2', c: '3' });
    expect(await h.manager.setSnapshotMetadata(snap.id, { a: 'one' }, false)).toEqual({ a: 'one', b: '2', c: '3' });
    expect(await h.manager.setSnapshotMetadata(snap.id, { b: 'two', d: '4' }, true)).toEqual({ b: 'two', d: '4' });
    expect(await h.manager.metadata(snap.id)).toEqual({ b: 'two', d: '4' });
    // An empty replacement clears everything.
    expect(await h.manager.setSnapshotMetadata(snap.id, {}, true)).toEqual({});
    const rows = await h.db.prisma.snapshotMetadata.findMany({ where: { snapshotId: snap.id }, orderBy: { key: 'asc' } });
    expect(rows.map((r) => [r.key, r.deleted])).toEqual([['a', true], ['b', true], ['c', true], ['d', true]]);
    expect(rows.every((r) => r.deletedAt?.getTime() === h.clock.now().getTime())).toBe(true);
  });

  it('soft-deletes one key, revives it when set again, and refuses a key that is not there', async () => {
    const snap = await snapshot();
    await h.manager.deleteSnapshotMetadataKey(snap.id, 'a');
    expect(await h.manager.metadata(snap.id)).toEqual({});
    await expect(h.manager.deleteSnapshotMetadataKey(snap.id, 'a')).rejects.toThrow(new NotFound('Metadata item was not found'));
    await expect(h.manager.deleteSnapshotMetadataKey(snap.id, 'never')).rejects.toThrow(NotFound);
    expect(await h.manager.setSnapshotMetadata(snap.id, { a: 'again' }, false)).toEqual({ a: 'again' });
    // The same row came back: (snapshot, key) is unique, deleted or not.
    const rows = await h.db.prisma.snapshotMetadata.findMany({ where: { snapshotId: snap.id } });
    expect(rows.map((r) => [r.key, r.value, r.deleted, r.deletedAt])).toEqual([['a', 'again', false, null]]);
  });

  it('refuses more items than the limit on create, merge and replace, and writes nothing then', async () => {
    const snap = await snapshot({ maxMetadataItems: 3 });
    const tooMany = new Forbidden('Maximum number of metadata items exceeds 3');
    const volume = await h.manager.getVolume(snap.volumeId);
    await expect(h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', metadata: items(4) })).rejects.toThrow(tooMany);
    expect(await h.db.prisma.snapshot.count()).toBe(1);

    // a + two more is the limit; a third new key is one too many, a changed one is not.
    expect(await h.manager.setSnapshotMetadata(snap.id, items(2), false)).toEqual({ a: '1', k0: 'v', k1: 'v' });
    await expect(h.manager.setSnapshotMetadata(snap.id, { z: 'v' }, false)).rejects.toThrow(tooMany);
    await expect(h.manager.setSnapshotMetadata(snap.id, { a: '2', z: 'v' }, false)).rejects.toThrow(tooMany);
    expect(await h.manager.setSnapshotMetadata(snap.id, { a: '2', k0: 'w' }, false)).toEqual({ a: '2', k0: 'w', k1: 'v' });
    await expect(h.manager.setSnapshotMetadata(snap.id, items(4, 'r'), true)).rejects.toThrow(tooMany);
    expect(await h.manager.metadata(snap.id)).toEqual({ a: '2', k0: 'w', k1: 'v' });
    // A replacement counts only itself; a deleted key no longer counts.
    expect(await h.manager.setSnapshotMetadata(snap.id, items(3, 'r'), true)).toEqual({ r0: 'v', r1: 'v', r2: 'v' });
    await h.manager.deleteSnapshotMetadataKey(snap.id, 'r0');
    expect(await h.manager.setSnapshotMetadata(snap.id, { s: 'v' }, false)).toEqual({ r1: 'v', r2: 'v', s: 'v' });
  });

  it('lets racing merges together reach the limit but never pass it', async () => {
    const snap = await snapshot({ maxMetadataItems: 10 });
    // 1 key there, 20 writers of one new key each: 9 win, 11 are refused.
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => h.manager.setSnapshotMetadata(snap.id, { [`w${i}`]: 'v' }, false)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual(Array(11).fill(new Forbidden('Maximum number of metadata items exceeds 10')));
    expect(Object.keys(await h.manager.metadata(snap.id))).toHaveLength(10);
  });
});

describe.each(providers)('volume metadata on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const volume = async (limits?: { maxMetadataItems: number }) => {
    h = await harness(await freshDatabaseUrl(provider), limits ? { limits } : {});
    return createdVolume(h, { projectId: 'project-a', userId: 'user-a', size: 1, metadata: { a: '1' } });
  };

  it('is created with the volume, then merged, replaced and removed as snapshot metadata is, in its own table', async () => {
    const v = await volume();
    expect(v.metadata.map((m) => [m.key, m.value])).toEqual([['a', '1']]);
    expect(await h.manager.setVolumeMetadata(v.id, { c: '3', b: '2' }, false)).toEqual({ a: '1', b: '2', c: '3' });
    expect(await h.manager.setVolumeMetadata(v.id, { b: 'two' }, true)).toEqual({ b: 'two' });
    await h.manager.deleteVolumeMetadataKey(v.id, 'b');
    expect(await h.manager.volumeMetadata(v.id)).toEqual({});
    await expect(h.manager.deleteVolumeMetadataKey(v.id, 'b')).rejects.toThrow(new NotFound(`Volume ${v.id} has no metadata with key b.`));
    // Snapshot metadata is another table: nothing of the volume's there.
    expect(await h.db.prisma.snapshotMetadata.count()).toBe(0);
    const rows = await h.db.prisma.volumeMetadata.findMany({ where: { volumeId: v.id }, orderBy: { key: 'asc' } });
    expect(rows.map((r) => [r.key, r.deleted])).toEqual([['a', true], ['b', true], ['c', true]]);
  });

  it('refuses more items than the limit on create and merge, writing nothing', async () => {
    const v = await volume({ maxMetadataItems: 2 });
    const tooMany = new Forbidden('Maximum number of metadata items exceeds 2');
    await expect(h.manager.createVolume({ projectId: 'project-a', userId: 'u', size: 1, metadata: { x: '1', y: '2', z: '3' } })).rejects.toThrow(tooMany);
    expect(await h.manager.setVolumeMetadata(v.id, { b: '2' }, false)).toEqual({ a: '1', b: '2' });
    await expect(h.manager.setVolumeMetadata(v.id, { c: '3' }, false)).rejects.toThrow(tooMany);
    expect(await h.db.prisma.volume.count()).toBe(1);
  });

  it('refuses changes in maintenance with Cinder\'s messages, and takes them again once reset', async () => {
    const v = await volume();
    await h.manager.resetVolumeStatus(v.id, { status: 'maintenance' });
    await expect(h.manager.setVolumeMetadata(v.id, { b: '2' }, false)).rejects.toThrow(
      new InvalidRequest('Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.'),
    );
    await expect(h.manager.deleteVolumeMetadataKey(v.id, 'a')).rejects.toThrow(
      new InvalidRequest('Invalid volume: Deleting volume metadata is not allowed for volumes in maintenance status.'),
    );
    await expect(h.manager.updateVolume(v.id, { bootable: true })).rejects.toThrow(new InvalidRequest('Invalid volume: The volume cannot be updated during maintenance.'));
    expect(await h.manager.volumeMetadata(v.id)).toEqual({ a: '1' });
    await h.manager.resetVolumeStatus(v.id, { status: 'available' });
    expect(await h.manager.setVolumeMetadata(v.id, { b: '2' }, false)).toEqual({ a: '1', b: '2' });
  });

  it('keeps bootable and the readonly flag, the flag only of an available volume', async () => {
    const v = await volume();
    expect(v.bootable).toBe(false);
    expect((await h.manager.updateVolume(v.id, { bootable: true })).bootable).toBe(true);
    await h.manager.updateVolumeReadonly(v.id, true);
    expect(await h.engine.store.readVolumeMetadata(v.id, 'volume_admin_metadata')).toEqual({ readonly: 'True' });
    await h.manager.updateVolumeReadonly(v.id, false);
    expect(await h.engine.store.readVolumeMetadata(v.id, 'volume_admin_metadata')).toEqual({ readonly: 'False' });
    await h.manager.resetVolumeStatus(v.id, { status: 'error' });
    await expect(h.manager.updateVolumeReadonly(v.id, true)).rejects.toThrow(
      new InvalidRequest(`Invalid volume: Volume ${v.id} status must be available to update readonly flag, but current status is: error.`),
    );
  });

  it('sums the volumes of a project with their distinct metadata', async () => {
    const v = await volume();
    await createdVolume(h, { projectId: 'project-a', userId: 'u', size: 3, metadata: { a: '1', b: 'x' } });
    await createdVolume(h, { projectId: 'project-b', userId: 'u', size: 5, metadata: { a: '2' } });
    expect(await h.manager.volumeSummary('project-a')).toEqual({ count: 2, totalSize: 4, metadata: { a: ['1'], b: ['x'] } });
    expect(await h.manager.volumeSummary(null)).toEqual({ count: 3, totalSize: 9, metadata: { a: ['1', '2'], b: ['x'] } });
    await h.manager.deleteVolume(v.id);
    // Being deleted still counts, as in Cinder; once gone it does not.
    expect((await h.manager.volumeSummary('project-a')).count).toBe(2);
    await runVolumeJobs(h, v.id);
    expect(await h.manager.volumeSummary('project-a')).toEqual({ count: 1, totalSize: 3, metadata: { a: ['1'], b: ['x'] } });
    expect(await h.manager.volumeSummary('nobody')).toEqual({ count: 0, totalSize: 0, metadata: {} });
  });
});
