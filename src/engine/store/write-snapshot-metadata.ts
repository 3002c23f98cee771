// A snapshot's user metadata, as the API edits it (not machine state: it never changes a
// snapshot's phase, so it needs no version).
import type { Db } from '../../db/client.js';
import type { Dialect } from './dialect.js';
import { removeOtherKeys, writeKeyValues } from './key-values.js';

/** `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST). */
export async function setSnapshotMetadata(db: Db, d: Dialect, snapshotId: string, metadata: Record<string, string>, replace: boolean, now: Date) {
  await db.sql.transaction(async (tx) => {
    if (replace) await removeOtherKeys(tx, d, 'snapshot_metadata', snapshotId, Object.keys(metadata), now);
    const writes = Object.entries(metadata).map(([key, value]) => ({ ownerId: snapshotId, key, value }));
    await writeKeyValues(tx, d, 'snapshot_metadata', writes, now);
  });
}

/** Soft-deletes one key; false when the snapshot had no such live key. */
export async function deleteSnapshotMetadataKey(db: Db, d: Dialect, snapshotId: string, key: string, now: Date): Promise<boolean> {
  const removed = await db.sql.transaction((tx) => writeKeyValues(tx, d, 'snapshot_metadata', [{ ownerId: snapshotId, key, value: null }], now));
  return removed > 0;
}
