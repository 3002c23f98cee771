// What os-hosts shows for the one backend: live volumes and snapshots, counted and summed per
// project (every volume of this service is on its one backend).
import type { PrismaClient } from '../../db/client.js';

export interface ProjectUsage {
  projectId: string;
  volumeCount: number;
  volumeGb: number;
  snapshotCount: number;
  snapshotGb: number;
}

export async function usagePerProject(prisma: PrismaClient): Promise<ProjectUsage[]> {
  const [volumes, snapshots] = await Promise.all([
    prisma.volume.groupBy({ by: ['projectId'], where: { deleted: false }, _count: { _all: true }, _sum: { size: true } }),
    prisma.snapshot.groupBy({ by: ['projectId'], where: { deleted: false }, _count: { _all: true }, _sum: { volumeSize: true } }),
  ]);
  const out = new Map<string, ProjectUsage>();
  const entry = (projectId: string) => {
    let u = out.get(projectId);
    if (!u) out.set(projectId, (u = { projectId, volumeCount: 0, volumeGb: 0, snapshotCount: 0, snapshotGb: 0 }));
    return u;
  };
  for (const v of volumes) Object.assign(entry(v.projectId), { volumeCount: v._count._all, volumeGb: v._sum.size ?? 0 });
  for (const s of snapshots) Object.assign(entry(s.projectId), { snapshotCount: s._count._all, snapshotGb: s._sum.volumeSize ?? 0 });
  return [...out.values()].sort((a, b) => a.projectId.localeCompare(b.projectId));
}
