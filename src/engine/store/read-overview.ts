// The web UI's overview: every live volume (of one project, or of all), oldest first. Snapshots
// are not in it: there can be far more of them, so the UI pages through them (read-snapshot-window.ts).
import type { PrismaClient } from '../../db/client.js';

export async function readOverview(prisma: PrismaClient, projectId: string | null) {
  const where = { deleted: false, ...(projectId === null ? {} : { projectId }) };
  const volumes = await prisma.volume.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return { volumes };
}
