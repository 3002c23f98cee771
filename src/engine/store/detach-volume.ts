// Closes a volume's attachments (one, or all of them); the volume becomes available again once
// none is left, in the same transaction.
import type { PrismaClient } from '../../db/client.js';

/** False when `attachmentId` names no live attachment of the volume (then nothing is written). */
export function detachVolume(prisma: PrismaClient, volumeId: string, attachmentId: string | null, now: Date): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const closed = await tx.volumeAttachment.updateMany({
      where: { volumeId, deleted: false, ...(attachmentId ? { id: attachmentId } : {}) },
      data: { attachStatus: 'detached', detachTime: now, deleted: true, deletedAt: now },
    });
    if (attachmentId && closed.count === 0) return false;
    const left = await tx.volumeAttachment.count({ where: { volumeId, deleted: false } });
    if (left === 0) await tx.volume.update({ where: { id: volumeId }, data: { status: 'available', attachStatus: 'detached' } });
    return true;
  });
}
