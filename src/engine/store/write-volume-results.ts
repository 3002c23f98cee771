// What a driver phase changes on the snapshot's volume: its admin metadata (e.g. the active file's
// format), through the key/value helper, and the connection info of its attachments. Rare
// (complete phases only), so the attachments are updated per volume.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';
import { writeKeyValues } from './key-values.js';
import type { VolumeWrite } from './rows.js';

export async function writeVolumeResults(tx: SqlRunner, d: Dialect, writes: VolumeWrite[], now: Date) {
  const adminMetadata = writes.flatMap((w) => Object.entries(w.adminMetadata).map(([key, value]) => ({ ownerId: w.volumeId, key, value })));
  if (adminMetadata.length > 0) await writeKeyValues(tx, d, 'volume_admin_metadata', adminMetadata, now);
  for (const w of writes) {
    if (w.connectionInfo) {
      await tx.execute(sql`
        UPDATE volume_attachment SET connection_info = ${d.text(JSON.stringify(w.connectionInfo))}, updated_at = ${d.timestamp(now)}
        WHERE volume_id = ${d.text(w.volumeId)} AND deleted = ${d.boolean(false)}`);
    }
  }
}
