// What still owns files in the backend: every volume and snapshot row not deleted. Ids only, so
// the orphan scan stays cheap with many rows.
import type { PrismaClient } from '../../db/client.js';

export async function ownedIds(prisma: PrismaClient): Promise<{ volumeIds: Set<string>; snapshotIds: Set<string> }> {
  const [volumes, snapshots] = await Promise.all([
    prisma.volume.findMany({ where: { deleted: false }, select: { id: true } }),
    prisma.snapshot.findMany({ where: { deleted: false }, select: { id: true } }),
  ]);
  return { volumeIds: new Set(volumes.map((v) => v.id)), snapshotIds: new Set(snapshots.map((s) => s.id)) };
}
