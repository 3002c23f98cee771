// What a batch of claimed jobs needs to run: each snapshot with its volume and its current admin
// metadata (where begin phases left compute's instructions), in three set-based reads.
import type { Volume } from '../../db/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import { loadSnapshots } from './load-snapshots.js';
import { loadVolumes } from './load-volumes.js';
import type { SnapshotRow } from './rows.js';

export type JobContext = SnapshotRow & { volume: Volume; adminMetadata: Record<string, string> };

export async function loadJobContext(db: SqlRunner, d: Dialect, snapshotIds: readonly string[]): Promise<Map<string, JobContext>> {
  const snapshots = await loadSnapshots(db, snapshotIds);
  if (snapshots.size === 0) return new Map();
  const volumes = await loadVolumes(db, [...snapshots.values()].map((s) => s.volumeId));
  const metadata = await db.query<{ snapshot_id: string; key: string; value: string }>(sql`
    SELECT snapshot_id, key, value FROM snapshot_admin_metadata
    WHERE snapshot_id IN (${join([...snapshots.keys()])}) AND deleted = ${d.boolean(false)}`);
  const out = new Map<string, JobContext>();
  for (const s of snapshots.values()) {
    const volume = volumes.get(s.volumeId);
    if (volume) out.set(s.id, { ...s, volume, adminMetadata: {} });
  }
  for (const m of metadata) {
    const ctx = out.get(m.snapshot_id);
    if (ctx) ctx.adminMetadata[m.key] = m.value;
  }
  return out;
}
