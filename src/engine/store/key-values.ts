// The key/value tables (the user metadata of snapshots and volumes, their admin metadata) share
// one shape: (owner, key) is unique whether soft-deleted or not, so setting a
// removed key revives its row, and removing a key only marks it deleted (rows are never removed,
// as everywhere in the schema). Every write to them goes through here.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, empty, join, raw, sql } from './dialect.js';

export type KeyValueTable = 'snapshot_metadata' | 'snapshot_admin_metadata' | 'volume_metadata' | 'volume_admin_metadata';
/** The tables of metadata a user edits through the API. */
export type UserMetadataTable = 'snapshot_metadata' | 'volume_metadata';

/** The column naming the row a key belongs to. */
export const ownerColumn = (table: KeyValueTable) => raw(table.startsWith('volume_') ? 'volume_id' : 'snapshot_id');

export interface KeyValueWrite {
  ownerId: string;
  key: string;
  /** null soft-deletes the key. */
  value: string | null;
}

/**
 * Sets and removes keys: one multi-row upsert for the keys set, one update per key removed.
 * Returns how many live keys were removed (a key already gone does not count).
 */
export async function writeKeyValues(tx: SqlRunner, d: Dialect, table: KeyValueTable, writes: KeyValueWrite[], now: Date): Promise<number> {
  // Later writes of a key win, and one statement may not touch a row twice (PostgreSQL).
  const last = new Map<string, KeyValueWrite>();
  for (const w of writes) last.set(`${w.ownerId}\u0000${w.key}`, w);
  const set = [...last.values()].filter((w) => w.value !== null);
  const removed = [...last.values()].filter((w) => w.value === null);
  const owner = ownerColumn(table);
  if (set.length > 0) {
    const rows = set.map((w) => sql`(${join([d.text(w.ownerId), d.text(w.key), d.text(w.value), d.timestamp(now), d.timestamp(now), d.boolean(false)])})`);
    await tx.execute(sql`
      INSERT INTO ${raw(table)} (${owner}, key, value, created_at, updated_at, deleted)
      VALUES ${join(rows)}
      ON CONFLICT (${owner}, key) DO UPDATE
        SET value = excluded.value, deleted = excluded.deleted, deleted_at = NULL, updated_at = excluded.updated_at`);
  }
  let count = 0;
  for (const w of removed) {
    count += await tx.execute(sql`
      UPDATE ${raw(table)} SET deleted = ${d.boolean(true)}, deleted_at = ${d.timestamp(now)}, updated_at = ${d.timestamp(now)}
      WHERE ${owner} = ${d.text(w.ownerId)} AND key = ${d.text(w.key)} AND deleted = ${d.boolean(false)}`);
  }
  return count;
}

/** Removes every live key of one owner except `keep` (a PUT that replaces the whole set). */
export async function removeOtherKeys(tx: SqlRunner, d: Dialect, table: KeyValueTable, ownerId: string, keep: readonly string[], now: Date) {
  const owner = ownerColumn(table);
  await tx.execute(sql`
    UPDATE ${raw(table)} SET deleted = ${d.boolean(true)}, deleted_at = ${d.timestamp(now)}, updated_at = ${d.timestamp(now)}
    WHERE ${owner} = ${d.text(ownerId)} AND deleted = ${d.boolean(false)}
      ${keep.length > 0 ? sql`AND key NOT IN (${join(keep.map((k) => d.text(k)))})` : empty}`);
}
