// The outbox's lag, counted at scrape time: per effect kind, when the oldest pending job became
// due (run_after). Jobs waiting for a later retry are not late yet, so they do not count. One
// grouped read on the (status, run_after) index.
import type { PrismaClient } from '../../db/client.js';

export async function oldestDueJobs(prisma: PrismaClient, now: Date): Promise<Map<string, Date>> {
  const rows = await prisma.outboxJob.groupBy({ by: ['kind'], where: { status: 'pending', runAfter: { lte: now } }, _min: { runAfter: true } });
  return new Map(rows.flatMap((r) => (r._min.runAfter ? [[r.kind, r._min.runAfter] as const] : [])));
}
