// Key/value rows (a snapshot's user metadata, the admin metadata begin phases leave for compute,
// a volume's admin metadata) for many owners in one read; removed keys left out, keys in order.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, raw, sql } from './dialect.js';
import { ownerColumn, type KeyValueTable } from './key-values.js';

export async function loadMetadata(db: SqlRunner, d: Dialect, table: KeyValueTable, ids: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, Record<string, string>>(unique.map((id) => [id, {}]));
  if (unique.length === 0) return out;
  const owner = ownerColumn(table);
  const rows = await db.query<{ owner_id: string; key: string; value: string }>(sql`
    SELECT ${owner} AS owner_id, key, value FROM ${raw(table)}
    WHERE ${owner} IN (${join(unique)}) AND deleted = ${d.boolean(false)}
    ORDER BY ${owner}, key`);
  for (const r of rows) out.get(r.owner_id)![r.key] = r.value;
  return out;
}
