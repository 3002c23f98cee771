// Outbox rows of a batch (the effects its transitions asked for) in one multi-row INSERT.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import type { OutboxInsert, OutboxStatus } from './rows.js';

export async function enqueueJobs(tx: SqlRunner, d: Dialect, jobs: OutboxInsert[]) {
  if (jobs.length === 0) return;
  const values = jobs.map(
    (j) =>
      sql`(${join([
        d.text(j.snapshotId), d.text(j.kind), d.text(j.phase), d.integer(j.version), d.text('pending' satisfies OutboxStatus), d.integer(0),
        d.timestamp(j.runAfter), d.timestamp(j.createdAt), d.timestamp(j.createdAt),
      ])})`,
  );
  await tx.execute(sql`
    INSERT INTO outbox (snapshot_id, kind, phase, version, status, attempts, run_after, created_at, updated_at)
    VALUES ${join(values)}`);
}
