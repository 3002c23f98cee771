// A snapshot's current (not removed) admin metadata as a key -> value record.
import type { PrismaClient } from '../../db/client.js';

export async function readAdminMetadata(prisma: PrismaClient, snapshotId: string): Promise<Record<string, string>> {
  const rows = await prisma.snapshotAdminMetadata.findMany({ where: { snapshotId, deleted: false }, orderBy: { key: 'asc' } });
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}
