// A snapshot's key/value rows (user metadata, or the admin metadata begin phases leave for
// compute) for many snapshots in one read; removed keys left out, keys in order.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, raw, sql } from './dialect.js';

export type MetadataTable = 'snapshot_metadata' | 'snapshot_admin_metadata';

export async function loadMetadata(db: SqlRunner, d: Dialect, table: MetadataTable, ids: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, Record<string, string>>(unique.map((id) => [id, {}]));
  if (unique.length === 0) return out;
  const rows = await db.query<{ snapshot_id: string; key: string; value: string }>(sql`
    SELECT snapshot_id, key, value FROM ${raw(table)}
    WHERE snapshot_id IN (${join(unique)}) AND deleted = ${d.boolean(false)}
    ORDER BY snapshot_id, key`);
  for (const r of rows) out.get(r.snapshot_id)![r.key] = r.value;
  return out;
}
