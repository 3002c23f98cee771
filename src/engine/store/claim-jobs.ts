// Claims up to `limit` runnable outbox jobs for one worker in one statement.
//
// Runnable: pending, due, and not under an unexpired lease. Oldest due first: a job handed back to
// wait (a begin whose volume is taken, a retry) queues behind the work that became due meanwhile. On PostgreSQL the candidate rows are
// locked with SKIP LOCKED, so concurrent claimants (other processes) take disjoint sets without
// waiting on each other; on SQLite the statement runs under the database's single write lock and
// re-checks the same condition, which is the same compare-and-set. A claimant that dies leaves
// its lease to run out, and the job becomes runnable again (effects are idempotent).
import type { Db } from '../../db/client.js';
import { asDate, asDateOrNull, asNumber } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';
import type { JobRow, OutboxStatus } from './rows.js';

interface RawJob {
  id: unknown;
  snapshot_id: string | null;
  volume_id: string | null;
  kind: string;
  phase: string;
  version: unknown;
  status: OutboxStatus;
  attempts: unknown;
  run_after: unknown;
  locked_by: string | null;
  locked_until: unknown;
  last_error: string | null;
  created_at: unknown;
  updated_at: unknown;
  completed_at: unknown;
}

export async function claimJobs(db: Db, d: Dialect, workerId: string, limit: number, now: Date, leaseMs: number): Promise<JobRow[]> {
  const until = new Date(now.getTime() + leaseMs);
  // Every write runs in a transaction: on SQLite that is what serialises it with the group
  // commit, which shares the one connection.
  const rows = await db.sql.transaction(
    (tx) => tx.query<RawJob>(sql`
      UPDATE outbox SET locked_by = ${d.text(workerId)}, locked_until = ${d.timestamp(until)},
        attempts = attempts + 1, updated_at = ${d.timestamp(now)}
      WHERE id IN (
        SELECT id FROM outbox
        WHERE status = 'pending' AND run_after <= ${d.timestamp(now)}
          AND (locked_until IS NULL OR locked_until < ${d.timestamp(now)})
        ORDER BY run_after, id LIMIT ${d.integer(limit)} ${d.skipLocked})
      RETURNING id, snapshot_id, volume_id, kind, phase, version, status, attempts, run_after, locked_by, locked_until,
        last_error, created_at, updated_at, completed_at`),
  );
  return rows
    .map((r) => ({
      id: asNumber(r.id),
      snapshotId: r.snapshot_id,
      volumeId: r.volume_id,
      kind: r.kind,
      phase: r.phase,
      version: asNumber(r.version),
      status: r.status,
      attempts: asNumber(r.attempts),
      runAfter: asDate(r.run_after),
      lockedBy: r.locked_by,
      lockedUntil: asDateOrNull(r.locked_until),
      lastError: r.last_error,
      createdAt: asDate(r.created_at),
      updatedAt: asDate(r.updated_at),
      completedAt: asDateOrNull(r.completed_at),
    }))
    .sort((a, b) => a.id - b.id);
}
