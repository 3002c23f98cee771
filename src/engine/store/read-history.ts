// A snapshot's transitions, oldest first (the history outlives the snapshot).
import type { PrismaClient } from '../../db/client.js';

export function readHistory(prisma: PrismaClient, snapshotId: string) {
  return prisma.snapshotTransition.findMany({ where: { snapshotId }, orderBy: { id: 'asc' } });
}

/** Who owns a snapshot, deleted or not (null: it never existed). */
export function snapshotOwner(prisma: PrismaClient, snapshotId: string) {
  return prisma.snapshot.findUnique({ where: { id: snapshotId }, select: { projectId: true } });
}
