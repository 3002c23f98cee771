// Snapshot rows by id in one read. Soft-deleted rows are included: an event for a deleted
// snapshot is still judged (and refused) by its machine, and recorded.
import type { SqlRunner } from '../../db/sql.js';
import { join, sql } from './dialect.js';
import { snapshotColumns, toSnapshotRow, type RawSnapshot } from './snapshot-columns.js';
import type { SnapshotRow } from './rows.js';

export async function loadSnapshots(db: SqlRunner, ids: readonly string[]): Promise<Map<string, SnapshotRow>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.query<RawSnapshot>(sql`SELECT ${snapshotColumns} FROM snapshots WHERE id IN (${join(unique)})`);
  return new Map(rows.map((r) => [r.id, toSnapshotRow(r)]));
}
