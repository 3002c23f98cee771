// Snapshot admin metadata from a batch: one multi-row upsert for the keys set, one update for the
// keys removed. (snapshot, key) is unique whether soft-deleted or not, so setting a removed key
// revives its row.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import type { AdminMetadataWrite } from './rows.js';

export async function writeAdminMetadata(tx: SqlRunner, d: Dialect, writes: AdminMetadataWrite[], now: Date) {
  // Later writes of a key win, and one statement may not touch a row twice (PostgreSQL).
  const last = new Map<string, AdminMetadataWrite>();
  for (const w of writes) last.set(`${w.snapshotId}\u0000${w.key}`, w);
  const set = [...last.values()].filter((w) => w.value !== null);
  const removed = [...last.values()].filter((w) => w.value === null);
  if (set.length > 0) {
    const rows = set.map((w) => sql`(${join([d.text(w.snapshotId), d.text(w.key), d.text(w.value), d.timestamp(now), d.timestamp(now), d.boolean(false)])})`);
    await tx.execute(sql`
      INSERT INTO snapshot_admin_metadata (snapshot_id, key, value, created_at, updated_at, deleted)
      VALUES ${join(rows)}
      ON CONFLICT (snapshot_id, key) DO UPDATE
        SET value = excluded.value, deleted = excluded.deleted, deleted_at = NULL, updated_at = excluded.updated_at`);
  }
  for (const w of removed) {
    await tx.execute(sql`
      UPDATE snapshot_admin_metadata SET deleted = ${d.boolean(true)}, deleted_at = ${d.timestamp(now)}, updated_at = ${d.timestamp(now)}
      WHERE snapshot_id = ${d.text(w.snapshotId)} AND key = ${d.text(w.key)} AND deleted = ${d.boolean(false)}`);
  }
}
