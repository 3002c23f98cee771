// Whether anything about volumes changed, for the web UI's stream: the count of volumes, their
// latest change, and the newest row of their history (a refused event changes no volume row but
// is in the history the page shows). The stamp differs whenever any of them moved.
import type { PrismaClient } from '../../db/client.js';

export async function volumeStamp(prisma: PrismaClient): Promise<string> {
  const [agg, last] = await Promise.all([
    prisma.volume.aggregate({ _count: { _all: true }, _max: { updatedAt: true } }),
    prisma.volumeTransition.findFirst({ orderBy: { id: 'desc' }, select: { id: true } }),
  ]);
  return `${agg._count._all}/${agg._max.updatedAt?.getTime() ?? 0}/${last?.id ?? 0}`;
}
