// Outbox rows (the effects a commit's transitions asked for) in one multi-row INSERT: a batch's
// snapshot jobs, or a volume step's. The only place a job is queued.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import type { OutboxInsert, OutboxStatus } from './rows.js';

export async function enqueueJobs(tx: SqlRunner, d: Dialect, jobs: OutboxInsert[]) {
  if (jobs.length === 0) return;
  const values = jobs.map(
    (j) =>
      sql`(${join([
        d.text(j.snapshotId), d.text(j.volumeId ?? null), d.text(j.kind), d.text(j.phase), d.integer(j.version),
        d.text('pending' satisfies OutboxStatus), d.integer(0), d.timestamp(j.runAfter), d.timestamp(j.createdAt), d.timestamp(j.createdAt),
      ])})`,
  );
  await tx.execute(sql`
    INSERT INTO outbox (snapshot_id, volume_id, kind, phase, version, status, attempts, run_after, created_at, updated_at)
    VALUES ${join(values)}`);
  // Other instances hear of the new jobs at COMMIT (nothing if it rolls back), and may take them
  // at once; this one is woken by its own commit anyway.
  if (d.notifyWork) await tx.execute(d.notifyWork);
}
