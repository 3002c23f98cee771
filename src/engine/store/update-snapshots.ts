// Moves many snapshot rows in one statement, each only if it is still at the version its new
// state was computed from. The rows that did not move are the batch's conflicts: another writer
// got there first, and everything the batch planned for them must be dropped and planned again.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';
import type { SnapshotUpdate } from './rows.js';

/** Returns the ids whose version guard failed. */
export async function updateSnapshots(tx: SqlRunner, d: Dialect, updates: SnapshotUpdate[]): Promise<Set<string>> {
  if (updates.length === 0) return new Set();
  const rows = updates.map((u) => [
    d.text(u.id),
    d.integer(u.fromVersion),
    d.text(u.columns.machineState),
    d.text(u.columns.phase),
    d.text(u.columns.status),
    d.text(u.columns.progress),
    d.text(u.columns.errorReason),
    d.timestamp(u.columns.deadlineAt),
    d.timestamp(u.columns.phaseEnteredAt),
    d.boolean(u.columns.deleted),
    d.timestamp(u.columns.deletedAt),
    d.integer(u.version),
    d.timestamp(u.updatedAt),
    d.boolean(u.providerLocation !== undefined),
    d.text(u.providerLocation ?? null),
    d.boolean(u.providerId !== undefined),
    d.text(u.providerId ?? null),
  ]);
  const moved = await tx.query<{ id: string }>(sql`
    UPDATE snapshots AS s SET
      machine_state = v.column3, phase = v.column4, status = v.column5, progress = v.column6,
      error_reason = v.column7, deadline_at = v.column8, phase_entered_at = v.column9,
      deleted = v.column10, deleted_at = v.column11, version = v.column12, updated_at = v.column13,
      provider_location = CASE WHEN v.column14 THEN v.column15 ELSE s.provider_location END,
      provider_id = CASE WHEN v.column16 THEN v.column17 ELSE s.provider_id END
    FROM ${d.values(rows)} AS v
    WHERE s.id = v.column1 AND s.version = v.column2
    RETURNING id`);
  const movedIds = new Set(moved.map((r) => r.id));
  return new Set(updates.filter((u) => !movedIds.has(u.id)).map((u) => u.id));
}
