// A volume status change of the attach flow (the legacy one Nova uses): a conditional update on
// the statuses it starts from, so two racing requests cannot both succeed.
import type { PrismaClient } from '../../db/client.js';

/** False when the volume is gone or in none of `from`. */
export async function moveVolumeStatus(prisma: PrismaClient, id: string, from: readonly string[], to: string): Promise<boolean> {
  const moved = await prisma.$transaction((tx) =>
    tx.volume.updateMany({ where: { id, deleted: false, status: { in: [...from] } }, data: { status: to } }),
  );
  return moved.count === 1;
}
