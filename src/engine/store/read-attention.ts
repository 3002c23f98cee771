// The snapshots an operator should look at: in an error status, close to (or past) their phase
// deadline, or in a phase that is not a resting one for longer than a threshold. Which statuses
// and phases those are comes from the machine (the caller derives them); here are columns only.
// Oldest phase first: what has waited longest leads. Each row comes with its newest history row.
import type { PrismaClient, Snapshot, SnapshotTransition } from '../../db/client.js';
import { lastHistoryRows } from './last-history-rows.js';

export interface AttentionQuery {
  scope: string | null;
  errorStatuses: readonly string[];
  /**
   * Phases a snapshot is meant to pass through (not available, error, …): "stuck" when it stays.
   * Listed rather than excluded, so each branch of the OR can use an index (status, deadline_at,
   * phase) and the read never scans the table.
   */
  activePhases: readonly string[];
  /** Deadlines before this are near. */
  deadlineBefore: Date;
  /** Phases entered before this are stuck. */
  enteredBefore: Date;
  take: number;
}

export async function readAttention(prisma: PrismaClient, q: AttentionQuery): Promise<Array<{ snapshot: Snapshot; last: SnapshotTransition | null }>> {
  const rows = await prisma.snapshot.findMany({
    where: {
      deleted: false,
      ...(q.scope !== null ? { projectId: q.scope } : {}),
      OR: [
        { status: { in: [...q.errorStatuses] } },
        { deadlineAt: { lte: q.deadlineBefore } },
        { phase: { in: [...q.activePhases] }, phaseEnteredAt: { lte: q.enteredBefore } },
      ],
    },
    orderBy: [{ phaseEnteredAt: 'asc' }, { id: 'asc' }],
    take: q.take,
  });
  const last = await lastHistoryRows(prisma, rows.map((s) => s.id));
  return rows.map((snapshot) => ({ snapshot, last: last.get(snapshot.id) ?? null }));
}
