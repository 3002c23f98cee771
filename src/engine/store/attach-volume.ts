// An attachment row and the volume's move to in-use, together.
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../db/client.js';

export interface AttachmentInsert {
  volumeId: string;
  instanceUuid: string | null;
  mountpoint: string;
  /** What the driver handed to compute (stored as JSON text); undefined: nothing. */
  connectionInfo: unknown;
}

export function attachVolume(prisma: PrismaClient, a: AttachmentInsert, now: Date) {
  return prisma.$transaction(async (tx) => {
    const attachment = await tx.volumeAttachment.create({
      data: {
        id: randomUUID(),
        volumeId: a.volumeId,
        instanceUuid: a.instanceUuid,
        mountpoint: a.mountpoint,
        attachStatus: 'attached',
        connectionInfo: a.connectionInfo === undefined ? null : JSON.stringify(a.connectionInfo),
        attachTime: now,
        createdAt: now,
      },
    });
    await tx.volume.update({ where: { id: a.volumeId }, data: { status: 'in-use', attachStatus: 'attached' } });
    return attachment;
  });
}
