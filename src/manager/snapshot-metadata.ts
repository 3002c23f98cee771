// User metadata of snapshots (not machine state: it never changes a snapshot's phase).
import type { PrismaClient } from '../db/client.js';
import { NotFound } from './errors.js';

export async function snapshotMetadata(prisma: PrismaClient, snapshotId: string): Promise<Record<string, string>> {
  const rows = await prisma.snapshotMetadata.findMany({ where: { snapshotId, deleted: false }, orderBy: { key: 'asc' } });
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST). */
export async function setSnapshotMetadata(prisma: PrismaClient, snapshotId: string, metadata: Record<string, string>, replace: boolean, now: Date) {
  await prisma.$transaction(async (tx) => {
    if (replace) {
      await tx.snapshotMetadata.updateMany({
        where: { snapshotId, deleted: false, key: { notIn: Object.keys(metadata) } },
        data: { deleted: true, deletedAt: now },
      });
    }
    for (const [key, value] of Object.entries(metadata)) {
      await tx.snapshotMetadata.upsert({
        where: { snapshotId_key: { snapshotId, key } },
        create: { snapshotId, key, value, createdAt: now },
        update: { value, deleted: false, deletedAt: null },
      });
    }
  });
  return snapshotMetadata(prisma, snapshotId);
}

export async function deleteSnapshotMetadataKey(prisma: PrismaClient, snapshotId: string, key: string, now: Date) {
  const gone = await prisma.snapshotMetadata.updateMany({ where: { snapshotId, key, deleted: false }, data: { deleted: true, deletedAt: now } });
  if (gone.count === 0) throw new NotFound(`Metadata item was not found`);
}
