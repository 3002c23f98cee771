// Whether another snapshot of the volume holds it for an assisted operation: an earlier begin
// still pending, or an operation past its begin and not yet complete. Read in that order: a
// begin's job closes in the same commit that moves its snapshot on, so one of the two reads sees
// an operation in flight.
import { assistedInFlightPhases } from '../../../machines/derive.js';
import { assistedBeginEffects } from '../../../machines/snapshot.js';
import type { PrismaClient } from '../../db/client.js';
import type { OutboxStatus } from './rows.js';

export async function volumeBusy(prisma: PrismaClient, jobId: number, snapshotId: string, volumeId: string): Promise<boolean> {
  const earlier = await prisma.outboxJob.findFirst({
    where: { id: { lt: jobId }, status: 'pending' satisfies OutboxStatus, kind: { in: [...assistedBeginEffects] }, snapshot: { volumeId, deleted: false, id: { not: snapshotId } } },
    select: { id: true },
  });
  if (earlier) return true;
  const holder = await prisma.snapshot.findFirst({
    where: { volumeId, deleted: false, id: { not: snapshotId }, phase: { in: [...assistedInFlightPhases] } },
    select: { id: true },
  });
  return holder !== null;
}
