// One volume with its live attachments and its type's name, as the API renders it (null: no such row, deleted or not).
import type { PrismaClient } from '../../db/client.js';
import { VOLUME_VIEW_INCLUDE, type VolumeWithAttachments } from './rows.js';

export function readVolume(prisma: PrismaClient, id: string): Promise<VolumeWithAttachments | null> {
  return prisma.volume.findUnique({ where: { id }, include: VOLUME_VIEW_INCLUDE });
}
