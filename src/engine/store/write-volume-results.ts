// What a driver phase changes on the snapshot's volume: its admin metadata (e.g. the active file's
// format) and the connection info of its attachments. Rare (complete phases only), so per row.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';
import type { VolumeWrite } from './rows.js';

export async function writeVolumeResults(tx: SqlRunner, d: Dialect, writes: VolumeWrite[], now: Date) {
  for (const w of writes) {
    for (const [key, value] of Object.entries(w.adminMetadata)) {
      if (value === null) {
        await tx.execute(sql`
          UPDATE volume_admin_metadata SET deleted = ${d.boolean(true)}, deleted_at = ${d.timestamp(now)}, updated_at = ${d.timestamp(now)}
          WHERE volume_id = ${d.text(w.volumeId)} AND key = ${d.text(key)} AND deleted = ${d.boolean(false)}`);
      } else {
        // (volume, key) is unique whether soft-deleted or not: setting a removed key revives it.
        await tx.execute(sql`
          INSERT INTO volume_admin_metadata (volume_id, key, value, created_at, updated_at, deleted)
          VALUES (${d.text(w.volumeId)}, ${d.text(key)}, ${d.text(value)}, ${d.timestamp(now)}, ${d.timestamp(now)}, ${d.boolean(false)})
          ON CONFLICT (volume_id, key) DO UPDATE
            SET value = excluded.value, deleted = excluded.deleted, deleted_at = NULL, updated_at = excluded.updated_at`);
      }
    }
    if (w.connectionInfo) {
      await tx.execute(sql`
        UPDATE volume_attachment SET connection_info = ${d.text(JSON.stringify(w.connectionInfo))}, updated_at = ${d.timestamp(now)}
        WHERE volume_id = ${d.text(w.volumeId)} AND deleted = ${d.boolean(false)}`);
    }
  }
}
