// A snapshot's transitions, oldest first (the history outlives the snapshot).
import type { PrismaClient } from '../../db/client.js';

export function readHistory(prisma: PrismaClient, snapshotId: string) {
  return prisma.snapshotTransition.findMany({ where: { snapshotId }, orderBy: { id: 'asc' } });
}

/** Who owns a snapshot, deleted or not (null: it never existed). */
export function snapshotOwner(prisma: PrismaClient, snapshotId: string) {
  return prisma.snapshot.findUnique({ where: { id: snapshotId }, select: { projectId: true, userId: true } });
}

/** A snapshot's accepted transitions before a given row, oldest first (for replaying its machine). */
export function acceptedHistoryBefore(prisma: PrismaClient, snapshotId: string, beforeId: number) {
  return prisma.snapshotTransition.findMany({ where: { snapshotId, rejected: false, id: { lt: beforeId } }, orderBy: { id: 'asc' } });
}
