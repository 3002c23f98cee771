// A snapshot's user metadata, as the API edits it (not machine state: it never changes a
// snapshot's phase, so it needs no version).
import type { Db } from '../../db/client.js';
import { asNumber } from '../../db/sql.js';
import { type Dialect, empty, join, sql } from './dialect.js';
import { removeOtherKeys, writeKeyValues } from './key-values.js';

/** `written: false`: the write would have left `count` live keys, more than allowed; nothing was written. */
export type MetadataWrite = { written: true } | { written: false; count: number };

/**
 * `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST).
 * At most `maxItems` live keys may result; the count and the write are one transaction, and
 * writers of one snapshot's metadata take turns, so two merges cannot both pass the count.
 */
export async function setSnapshotMetadata(db: Db, d: Dialect, snapshotId: string, metadata: Record<string, string>, replace: boolean, now: Date, maxItems: number): Promise<MetadataWrite> {
  const keys = Object.keys(metadata);
  return db.sql.transaction(async (tx) => {
    // SQLite's BEGIN IMMEDIATE already serialises writers; on PostgreSQL they take turns here.
    const lock = d.transactionLock(`snapshot_metadata:${snapshotId}`);
    if (lock) await tx.execute(lock);
    let count = keys.length;
    if (!replace) {
      const [row] = await tx.query<{ n: unknown }>(sql`
        SELECT COUNT(*) AS n FROM snapshot_metadata
        WHERE snapshot_id = ${d.text(snapshotId)} AND deleted = ${d.boolean(false)}
          ${keys.length > 0 ? sql`AND key NOT IN (${join(keys.map((k) => d.text(k)))})` : empty}`);
      count += asNumber(row!.n);
    }
    if (count > maxItems) return { written: false, count };
    if (replace) await removeOtherKeys(tx, d, 'snapshot_metadata', snapshotId, keys, now);
    const writes = Object.entries(metadata).map(([key, value]) => ({ ownerId: snapshotId, key, value }));
    await writeKeyValues(tx, d, 'snapshot_metadata', writes, now);
    return { written: true };
  });
}

/** Soft-deletes one key; false when the snapshot had no such live key. */
export async function deleteSnapshotMetadataKey(db: Db, d: Dialect, snapshotId: string, key: string, now: Date): Promise<boolean> {
  const removed = await db.sql.transaction((tx) => writeKeyValues(tx, d, 'snapshot_metadata', [{ ownerId: snapshotId, key, value: null }], now));
  return removed > 0;
}
