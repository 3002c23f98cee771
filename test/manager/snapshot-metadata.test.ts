// A snapshot's user metadata (src/manager/snapshot-metadata.ts): POST merges, PUT replaces, a
// removed key is soft-deleted and can be set again, and removing a key that is not there is a 404.
import { afterEach, describe, expect, it } from 'vitest';
import { NotFound } from '../../src/manager/errors.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';

describe.each(providers)('snapshot metadata on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const snapshot = async () => {
    h = await harness(await freshDatabaseUrl(provider));
    const volume = await volumeFor(h, false);
    return h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', metadata: { a: '1' } });
  };

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
});
