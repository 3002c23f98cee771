// The rows a batch's events are offered to, in one read. Soft-deleted rows are included: an event
// for a deleted snapshot is still judged (and refused) by its machine, and recorded.
import type { PrismaClient } from '../../db/client.js';
import type { SnapshotRow, SnapshotWithVolume } from './rows.js';

export async function loadSnapshots(prisma: PrismaClient, ids: readonly string[]): Promise<Map<string, SnapshotRow>> {
  if (ids.length === 0) return new Map();
  const rows = await prisma.snapshot.findMany({ where: { id: { in: [...new Set(ids)] } } });
  return new Map(rows.map((r) => [r.id, r]));
}

/** One snapshot with its volume, as the API authorises against it (null: no such row). */
export async function findSnapshot(prisma: PrismaClient, id: string): Promise<SnapshotWithVolume | null> {
  // findUnique: Prisma folds concurrent calls of the same shape into one query.
  return prisma.snapshot.findUnique({ where: { id }, include: { volume: true } });
}
