// What a batch of claimed jobs needs to run: each snapshot with its volume and its current admin
// metadata (where begin phases left compute's instructions), in one read.
import type { PrismaClient } from '../../db/client.js';

export async function loadJobContext(prisma: PrismaClient, snapshotIds: readonly string[]) {
  const rows = await prisma.snapshot.findMany({
    where: { id: { in: [...new Set(snapshotIds)] } },
    include: { volume: true, adminMetadata: { where: { deleted: false } } },
  });
  return new Map(rows.map((r) => [r.id, r]));
}

export type JobContext = Awaited<ReturnType<typeof loadJobContext>> extends Map<string, infer R> ? R : never;
