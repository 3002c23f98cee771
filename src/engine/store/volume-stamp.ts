// Volumes are not machines and have no history; their count and latest change stand in for one:
// the stamp differs whenever a volume was created, changed or deleted.
import type { PrismaClient } from '../../db/client.js';

export async function volumeStamp(prisma: PrismaClient): Promise<string> {
  const agg = await prisma.volume.aggregate({ _count: { _all: true }, _max: { updatedAt: true } });
  return `${agg._count._all}/${agg._max.updatedAt?.getTime() ?? 0}`;
}
