// The web UI's overview: every live volume and snapshot (of one project, or of all), oldest first.
import type { PrismaClient } from '../../db/client.js';

export async function readOverview(prisma: PrismaClient, projectId: string | null) {
  const where = { deleted: false, ...(projectId === null ? {} : { projectId }) };
  const [volumes, snapshots] = await Promise.all([
    prisma.volume.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    prisma.snapshot.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  ]);
  return { volumes, snapshots };
}
