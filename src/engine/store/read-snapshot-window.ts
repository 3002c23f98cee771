// One page of the UI's snapshot list: live snapshots newest first, by keyset on (createdAt, id)
// after the row `after` names, optionally filtered by status, phase, project or volume. Every
// filter leads an index that ends in (created_at, id) (see prisma/models.prisma), so a page
// costs a range seek and `take` rows however deep it is; an offset would read every row before
// it. Each row comes with its newest history row, for the rejection badge.
import type { PrismaClient, Prisma, Snapshot, SnapshotTransition } from '../../db/client.js';
import { lastHistoryRows } from './last-history-rows.js';

export interface SnapshotWindowQuery {
  /** null: every project (the caller's scope, not a filter). */
  scope: string | null;
  filters: { status?: string; phase?: string; projectId?: string; volumeId?: string };
  /** Id of the last row of the previous page. */
  after?: string;
  take: number;
}

export interface SnapshotWindow {
  rows: Array<{ snapshot: Snapshot; last: SnapshotTransition | null }>;
  /** The `after` of the next page; null on the last one. */
  next: string | null;
}

/** The Prisma `where` of a page; exported so tests can EXPLAIN what it compiles to. */
export function windowWhere(q: SnapshotWindowQuery, cursor: { createdAt: Date; id: string } | null): Prisma.SnapshotWhereInput {
  const { status, phase, projectId, volumeId } = q.filters;
  return {
    deleted: false,
    ...(q.scope !== null ? { projectId: q.scope } : {}),
    ...(projectId !== undefined ? { projectId } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(phase !== undefined ? { phase } : {}),
    ...(volumeId !== undefined ? { volumeId } : {}),
    // `createdAt <= c` on its own is the range the index seeks to; the OR only sorts out ties.
    ...(cursor ? { createdAt: { lte: cursor.createdAt }, OR: [{ createdAt: { lt: cursor.createdAt } }, { id: { lt: cursor.id } }] } : {}),
  };
}

export const windowOrder = [{ createdAt: 'desc' }, { id: 'desc' }] satisfies Prisma.SnapshotOrderByWithRelationInput[];

/** null: `after` names no snapshot. */
export async function readSnapshotWindow(prisma: PrismaClient, q: SnapshotWindowQuery): Promise<SnapshotWindow | null> {
  if (q.scope !== null && q.filters.projectId !== undefined && q.filters.projectId !== q.scope) return { rows: [], next: null };
  let cursor: { createdAt: Date; id: string } | null = null;
  if (q.after !== undefined) {
    cursor = await prisma.snapshot.findUnique({ where: { id: q.after }, select: { createdAt: true, id: true } });
    if (!cursor) return null;
  }
  const found = await prisma.snapshot.findMany({ where: windowWhere(q, cursor), orderBy: windowOrder, take: q.take + 1 });
  const page = found.slice(0, q.take);
  const last = await lastHistoryRows(prisma, page.map((s) => s.id));
  return {
    rows: page.map((snapshot) => ({ snapshot, last: last.get(snapshot.id) ?? null })),
    next: found.length > q.take ? page[page.length - 1]!.id : null,
  };
}
