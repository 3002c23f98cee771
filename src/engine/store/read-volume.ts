// One volume with its live attachments and its type's name, as the API renders it (null: no such row, deleted or not).
import type { PrismaClient } from '../../db/client.js';
import type { VolumeWithAttachments } from './rows.js';

export function readVolume(prisma: PrismaClient, id: string): Promise<VolumeWithAttachments | null> {
  return prisma.volume.findUnique({ where: { id }, include: { attachments: { where: { deleted: false } }, volumeType: { select: { name: true } } } });
}
