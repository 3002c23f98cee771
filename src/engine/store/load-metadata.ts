// The user metadata (not admin metadata) of many snapshots in one read, for rendering them.
import type { PrismaClient } from '../../db/client.js';
import { type Dialect, join } from './dialect.js';

export async function loadMetadata(prisma: PrismaClient, d: Dialect, ids: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, Record<string, string>>(unique.map((id) => [id, {}]));
  if (unique.length === 0) return out;
  const rows = await prisma.$queryRaw<{ snapshot_id: string; key: string; value: string }[]>`
    SELECT snapshot_id, key, value FROM snapshot_metadata
    WHERE snapshot_id IN (${join(unique)}) AND deleted = ${d.boolean(false)}
    ORDER BY snapshot_id, key`;
  for (const r of rows) out.get(r.snapshot_id)![r.key] = r.value;
  return out;
}
