// The history table read as a feed: where it ends now, and what was appended after a point.
import type { PrismaClient } from '../../db/client.js';

/** The id of the newest history row (0: none yet). */
export async function lastHistoryId(prisma: PrismaClient): Promise<number> {
  const last = await prisma.snapshotTransition.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
  return last?.id ?? 0;
}

/** Up to `limit` rows with ids above `after`, oldest first, leaving out the ids in `skip`. */
export function historySince(prisma: PrismaClient, after: number, skip: readonly number[], limit: number) {
  return prisma.snapshotTransition.findMany({
    where: { id: { gt: after, ...(skip.length > 0 ? { notIn: [...skip] } : {}) } },
    orderBy: { id: 'asc' },
    take: limit,
  });
}
