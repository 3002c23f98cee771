// Cinder's volume summary (GET /volumes/summary, cinder/db/sqlalchemy/api.py get_volume_summary):
// how many live volumes, their total size, and every distinct metadata key with its values.
import type { PrismaClient } from '../../db/client.js';

export interface VolumeSummary {
  count: number;
  totalSize: number;
  /** Each key with its distinct values (sorted), as Cinder groups them. */
  metadata: Record<string, string[]>;
}

export async function readVolumeSummary(prisma: PrismaClient, projectId: string | null): Promise<VolumeSummary> {
  const where = { deleted: false, ...(projectId !== null ? { projectId } : {}) };
  const [totals, items] = await Promise.all([
    prisma.volume.aggregate({ where, _count: { _all: true }, _sum: { size: true } }),
    prisma.volumeMetadata.findMany({
      where: { deleted: false, volume: where },
      distinct: ['key', 'value'],
      select: { key: true, value: true },
      orderBy: [{ key: 'asc' }, { value: 'asc' }],
    }),
  ]);
  const metadata: Record<string, string[]> = {};
  for (const { key, value } of items) (metadata[key] ??= []).push(value);
  return { count: totals._count._all, totalSize: totals._sum.size ?? 0, metadata };
}
