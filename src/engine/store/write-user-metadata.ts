// The user metadata of a snapshot or a volume, as the API edits it (not machine state: it never
// changes a phase, so it needs no version).
import type { Db } from '../../db/client.js';
import { asNumber } from '../../db/sql.js';
import { type Dialect, empty, join, raw, sql } from './dialect.js';
import { ownerColumn, removeOtherKeys, writeKeyValues, type UserMetadataTable } from './key-values.js';

/** `written: false`: the write would have left `count` live keys, more than allowed; nothing was written. */
export type MetadataWrite = { written: true } | { written: false; count: number };

/**
 * `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST).
 * At most `maxItems` live keys may result; the count and the write are one transaction, and
 * writers of one snapshot's metadata take turns, so two merges cannot both pass the count.
 */
export async function setUserMetadata(
  db: Db,
  d: Dialect,
  table: UserMetadataTable,
  ownerId: string,
  metadata: Record<string, string>,
  replace: boolean,
  now: Date,
  maxItems: number,
): Promise<MetadataWrite> {
  const keys = Object.keys(metadata);
  return db.sql.transaction(async (tx) => {
    // SQLite's BEGIN IMMEDIATE already serialises writers; on PostgreSQL they take turns here.
    const lock = d.transactionLock(`${table}:${ownerId}`);
    if (lock) await tx.execute(lock);
    let count = keys.length;
    if (!replace) {
      const [row] = await tx.query<{ n: unknown }>(sql`
        SELECT COUNT(*) AS n FROM ${raw(table)}
        WHERE ${ownerColumn(table)} = ${d.text(ownerId)} AND deleted = ${d.boolean(false)}
          ${keys.length > 0 ? sql`AND key NOT IN (${join(keys.map((k) => d.text(k)))})` : empty}`);
      count += asNumber(row!.n);
    }
    if (count > maxItems) return { written: false, count };
    if (replace) await removeOtherKeys(tx, d, table, ownerId, keys, now);
    const writes = Object.entries(metadata).map(([key, value]) => ({ ownerId, key, value }));
    await writeKeyValues(tx, d, table, writes, now);
    return { written: true };
  });
}

/** Soft-deletes one key; false when the owner had no such live key. */
export async function deleteUserMetadataKey(db: Db, d: Dialect, table: UserMetadataTable, ownerId: string, key: string, now: Date): Promise<boolean> {
  const removed = await db.sql.transaction((tx) => writeKeyValues(tx, d, table, [{ ownerId, key, value: null }], now));
  return removed > 0;
}

/** Admin metadata of a volume (e.g. `readonly`), set outside the machine: null removes a key. */
export async function writeVolumeAdminMetadata(db: Db, d: Dialect, volumeId: string, values: Record<string, string | null>, now: Date): Promise<void> {
  const writes = Object.entries(values).map(([key, value]) => ({ ownerId: volumeId, key, value }));
  await db.sql.transaction((tx) => writeKeyValues(tx, d, 'volume_admin_metadata', writes, now));
}
