// What a driver phase changes on the snapshot's volume: its admin metadata (e.g. the active file's
// format) and the connection info of its attachments. Rare (complete phases only), so per row.
import type { Tx } from '../types.js';
import type { VolumeWrite } from './rows.js';

export async function writeVolumeResults(tx: Tx, writes: VolumeWrite[], now: Date) {
  for (const w of writes) {
    for (const [key, value] of Object.entries(w.adminMetadata)) await setVolumeAdminMetadata(tx, w.volumeId, key, value, now);
    if (w.connectionInfo) {
      await tx.volumeAttachment.updateMany({
        where: { volumeId: w.volumeId, deleted: false },
        data: { connectionInfo: JSON.stringify(w.connectionInfo) },
      });
    }
  }
}

async function setVolumeAdminMetadata(tx: Tx, volumeId: string, key: string, value: string | null, now: Date) {
  if (value === null) {
    await tx.volumeAdminMetadata.updateMany({ where: { volumeId, key, deleted: false }, data: { deleted: true, deletedAt: now } });
    return;
  }
  await tx.volumeAdminMetadata.upsert({
    where: { volumeId_key: { volumeId, key } },
    create: { volumeId, key, value, createdAt: now },
    update: { value, deleted: false, deletedAt: null },
  });
}
