// The newest history row of each of some snapshots: the UI's list shows a badge when that row
// is a rejection (a callback or action the machine refused), with its reason. Indexed reads on
// (snapshot_id, id) whatever the histories' lengths, in chunks that stay under SQLite's limit on
// bound parameters.
import type { PrismaClient, SnapshotTransition } from '../../db/client.js';

const CHUNK = 500;

export async function lastHistoryRows(prisma: PrismaClient, snapshotIds: readonly string[]): Promise<Map<string, SnapshotTransition>> {
  const out = new Map<string, SnapshotTransition>();
  for (let i = 0; i < snapshotIds.length; i += CHUNK) {
    const chunk = snapshotIds.slice(i, i + CHUNK);
    const newest = await prisma.snapshotTransition.groupBy({ by: ['snapshotId'], where: { snapshotId: { in: chunk } }, _max: { id: true } });
    const ids = newest.map((n) => n._max.id).filter((id): id is number => id !== null);
    if (ids.length === 0) continue;
    for (const row of await prisma.snapshotTransition.findMany({ where: { id: { in: ids } } })) out.set(row.snapshotId, row);
  }
  return out;
}
