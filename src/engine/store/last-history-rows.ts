// The newest history row of each of some snapshots: the UI's list shows a badge when that row
// is a rejection (a callback or action the machine refused), with its reason. Two indexed reads
// (snapshot_id, id) whatever the histories' lengths.
import type { PrismaClient, SnapshotTransition } from '../../db/client.js';

export async function lastHistoryRows(prisma: PrismaClient, snapshotIds: readonly string[]): Promise<Map<string, SnapshotTransition>> {
  if (snapshotIds.length === 0) return new Map();
  const newest = await prisma.snapshotTransition.groupBy({ by: ['snapshotId'], where: { snapshotId: { in: [...snapshotIds] } }, _max: { id: true } });
  const ids = newest.map((n) => n._max.id).filter((id): id is number => id !== null);
  const rows = ids.length === 0 ? [] : await prisma.snapshotTransition.findMany({ where: { id: { in: ids } } });
  return new Map(rows.map((r) => [r.snapshotId, r]));
}
