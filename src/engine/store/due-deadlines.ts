// Snapshots whose compute wait has run out, oldest first, with the version that set the deadline:
// the timeout is only meaningful for that version.
//
// Due deadlines are claimed, not just read, so that of several instances sweeping at once only
// one delivers each expiry: the rows are taken with SKIP LOCKED (PostgreSQL; on SQLite the
// statement runs under the one write lock) and their deadline is moved `leaseMs` on. The expiry
// then moves the snapshot out of its compute wait, which clears the deadline; if the claimant dies
// first, or its expiry is refused because a callback won the race, the moved deadline comes due
// again and is looked at once more, so none is lost.
import type { Db, PrismaClient } from '../../db/client.js';
import { asNumber } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';

export interface DueDeadline {
  id: string;
  phase: string;
  version: number;
}

export async function claimDueDeadlines(db: Db, d: Dialect, now: Date, limit: number, leaseMs: number): Promise<DueDeadline[]> {
  const until = new Date(now.getTime() + leaseMs);
  const rows = await db.sql.transaction((tx) =>
    tx.query<{ id: string; phase: string; version: unknown }>(sql`
      UPDATE snapshots SET deadline_at = ${d.timestamp(until)}
      WHERE id IN (
        SELECT id FROM snapshots
        WHERE deadline_at <= ${d.timestamp(now)} AND deleted = ${d.boolean(false)}
        ORDER BY deadline_at LIMIT ${d.integer(limit)} ${d.skipLocked})
      RETURNING id, phase, version`),
  );
  return rows.map((r) => ({ id: r.id, phase: r.phase, version: asNumber(r.version) }));
}

export async function nextDeadline(prisma: PrismaClient): Promise<Date | null> {
  const row = await prisma.snapshot.findFirst({
    where: { deadlineAt: { not: null }, deleted: false },
    orderBy: { deadlineAt: 'asc' },
    select: { deadlineAt: true },
  });
  return row?.deadlineAt ?? null;
}
