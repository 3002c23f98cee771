// What the metrics count in the database at scrape time, so every process reports the same truth.
import type { PrismaClient } from '../../db/client.js';

/** Snapshot rows per phase (deleted ones included: rows are soft-deleted). */
export async function snapshotsPerPhase(prisma: PrismaClient): Promise<Map<string, number>> {
  const rows = await prisma.snapshot.groupBy({ by: ['phase'], _count: { _all: true } });
  return new Map(rows.map((r) => [r.phase, r._count._all]));
}

/** Outbox jobs not yet done, per effect kind. */
export async function pendingJobsPerKind(prisma: PrismaClient): Promise<Map<string, number>> {
  const rows = await prisma.outboxJob.groupBy({ by: ['kind'], where: { status: 'pending' }, _count: { _all: true } });
  return new Map(rows.map((r) => [r.kind, r._count._all]));
}
