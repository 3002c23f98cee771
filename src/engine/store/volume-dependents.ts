// What hangs off a volume or a snapshot besides its own row: the snapshots a cascade delete must
// take first, and the volumes still being copied from a snapshot (which keep it from deletion).
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';

export interface Dependent {
  id: string;
  status: string;
}

/** The volume's live snapshots, oldest first. */
export function liveSnapshotsOf(db: SqlRunner, d: Dialect, volumeId: string): Promise<Dependent[]> {
  return db.query<Dependent>(sql`
    SELECT id, status FROM snapshots WHERE volume_id = ${d.text(volumeId)} AND deleted = ${d.boolean(false)} ORDER BY created_at, id`);
}

/** Volumes whose data is still being copied from the snapshot. */
export function volumesCreatingFromSnapshot(db: SqlRunner, d: Dialect, snapshotId: string): Promise<Dependent[]> {
  return db.query<Dependent>(sql`
    SELECT id, status FROM volumes
    WHERE snapshot_id = ${d.text(snapshotId)} AND phase = ${d.text('creating')} AND deleted = ${d.boolean(false)} ORDER BY created_at, id`);
}
