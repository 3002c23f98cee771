// History rows of a batch in one multi-row INSERT (Prisma's createMany compiles a model query,
// which costs more than the insert itself).
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import type { HistoryRow } from './rows.js';

export async function appendHistory(tx: SqlRunner, d: Dialect, rows: HistoryRow[]) {
  if (rows.length === 0) return;
  const values = rows.map(
    (h) =>
      sql`(${join([
        d.text(h.snapshotId), d.integer(h.version), d.text(h.fromPhase), d.text(h.toPhase), d.text(h.fromStatus), d.text(h.toStatus),
        d.text(h.eventType), d.text(h.source), d.text(h.payload), d.boolean(h.rejected), d.text(h.reason), d.timestamp(h.createdAt),
      ])})`,
  );
  await tx.execute(sql`
    INSERT INTO snapshot_transitions
      (snapshot_id, version, from_phase, to_phase, from_status, to_status, event_type, source, payload, rejected, reason, created_at)
    VALUES ${join(values)}`);
}
