// A volume's transitions, oldest first (the history outlives the volume).
import type { PrismaClient } from '../../db/client.js';

export function readVolumeHistory(prisma: PrismaClient, volumeId: string) {
  return prisma.volumeTransition.findMany({ where: { volumeId }, orderBy: { id: 'asc' } });
}

/** Who owns a volume, deleted or not (null: it never existed). */
export function volumeOwner(prisma: PrismaClient, volumeId: string) {
  return prisma.volume.findUnique({ where: { id: volumeId }, select: { projectId: true, userId: true } });
}
