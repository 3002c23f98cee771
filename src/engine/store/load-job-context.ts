// What a batch of claimed jobs needs to run: each snapshot with its volume and its current admin
// metadata (where begin phases left compute's instructions), in three set-based reads.
import type { Volume } from '../../db/client.js';
import type { SqlRunner } from '../../db/sql.js';
import type { Dialect } from './dialect.js';
import { loadMetadata } from './load-metadata.js';
import { loadSnapshots } from './load-snapshots.js';
import { loadVolumes } from './load-volumes.js';
import type { SnapshotRow } from './rows.js';

export type JobContext = SnapshotRow & { volume: Volume; adminMetadata: Record<string, string> };

export async function loadJobContext(db: SqlRunner, d: Dialect, snapshotIds: readonly string[]): Promise<Map<string, JobContext>> {
  const snapshots = await loadSnapshots(db, snapshotIds);
  if (snapshots.size === 0) return new Map();
  const volumes = await loadVolumes(db, [...snapshots.values()].map((s) => s.volumeId));
  const adminMetadata = await loadMetadata(db, d, 'snapshot_admin_metadata', [...snapshots.keys()]);
  const out = new Map<string, JobContext>();
  for (const s of snapshots.values()) {
    const volume = volumes.get(s.volumeId);
    if (volume) out.set(s.id, { ...s, volume, adminMetadata: adminMetadata.get(s.id) ?? {} });
  }
  return out;
}
