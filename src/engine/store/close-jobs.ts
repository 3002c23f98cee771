// Closes outbox jobs: the ones a batch's events answer, and the ones a worker finishes without an
// event (a compute request sent, an effect that no longer applies). One statement per outcome.
// A job is closed once: a second worker that ran it again after the first one's lease ran out
// (a slow effect, a busy host) finds it closed and leaves the first outcome as it was.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import type { JobClose } from './rows.js';

export async function closeJobs(tx: SqlRunner, d: Dialect, closes: JobClose[], now: Date) {
  const groups = new Map<string, JobClose[]>();
  for (const c of closes) {
    const key = `${c.status}\u0000${c.error ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const group of groups.values()) {
    const { status, error } = group[0];
    await tx.execute(sql`
      UPDATE outbox SET status = ${d.text(status)}, completed_at = ${d.timestamp(now)}, updated_at = ${d.timestamp(now)},
        locked_until = NULL, last_error = COALESCE(${d.text(error ? error.slice(0, 2000) : null)}, last_error)
      WHERE id IN (${join(group.map((c) => d.integer(c.jobId)))}) AND status = ${d.text('pending')}`);
  }
}
