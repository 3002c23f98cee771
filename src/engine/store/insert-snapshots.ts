// New snapshot rows (the create request's transition), each only if its volume still allows it.
//
// Rewriting a volume's own status takes its row lock (PostgreSQL; SQLite already holds the write
// lock) and proves the status is still the one the request was judged against. A volume delete
// does the same, so the two cannot interleave into a snapshot of a deleted volume.
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, join, sql } from './dialect.js';
import { admitQuotas, type QuotaRefusal } from './quota.js';
import type { SnapshotInsert } from './rows.js';

export interface InsertResult {
  /** Creates whose volume no longer allowed them. */
  refused: Set<string>;
  /** Creates their project's quota did not hold (judged after the volume guards: quota.ts's lock order). */
  overQuota: Map<string, QuotaRefusal>;
}

/** Inserts the rows whose volume guard and quota hold; returns those refused. */
export async function insertSnapshots(tx: SqlRunner, d: Dialect, inserts: SnapshotInsert[]): Promise<InsertResult> {
  const refused = new Set<string>();
  const overQuota = new Map<string, QuotaRefusal>();
  if (inserts.length === 0) return { refused, overQuota };
  const guards = new Map<string, string>();
  for (const i of inserts) if (i.volumeGuard) guards.set(`${i.volumeGuard.volumeId}\u0000${i.volumeGuard.status}`, i.volumeGuard.volumeId);
  if (guards.size > 0) {
    const rows = [...guards.keys()].map((k) => {
      const [volumeId, status] = k.split('\u0000');
      return [d.text(volumeId), d.text(status)];
    });
    const held = await tx.query<{ id: string }>(sql`
      UPDATE volumes AS vo SET status = vo.status
      FROM ${d.values(rows)} AS g
      WHERE vo.id = g.column1 AND vo.status = g.column2 AND vo.deleted = ${d.boolean(false)}
      RETURNING id`);
    const heldIds = new Set(held.map((r) => r.id));
    for (const i of inserts) if (i.volumeGuard && !heldIds.has(i.volumeGuard.volumeId)) refused.add(i.row.id);
  }
  const judged = inserts.filter((i) => !refused.has(i.row.id) && i.quota);
  if (judged.length > 0) {
    const refusals = await admitQuotas(tx, d, judged.map((i) => i.quota!));
    judged.forEach((i, k) => {
      if (refusals[k]) overQuota.set(i.row.id, refusals[k]);
    });
  }
  const kept = inserts.filter((i) => !refused.has(i.row.id) && !overQuota.has(i.row.id));
  if (kept.length > 0) {
    const rows = kept.map(({ row: r }) => sql`(${join([
      d.text(r.id), d.text(r.volumeId), d.text(r.projectId), d.text(r.userId), d.text(r.name), d.text(r.description), d.text(r.status),
      d.text(r.progress), d.integer(r.volumeSize), d.timestamp(r.createdAt), d.timestamp(r.updatedAt), d.timestamp(r.deletedAt),
      d.boolean(r.deleted), d.text(r.machineState), d.text(r.phase), d.integer(r.version), d.timestamp(r.deadlineAt),
      d.timestamp(r.phaseEnteredAt), d.text(r.errorReason), d.text(r.groupSnapshotId ?? null),
    ])})`);
    await tx.execute(sql`
      INSERT INTO snapshots (id, volume_id, project_id, user_id, name, description, status, progress, volume_size, created_at,
        updated_at, deleted_at, deleted, machine_state, phase, version, deadline_at, phase_entered_at, error_reason, group_snapshot_id)
      VALUES ${join(rows)}`);
    const metadata = kept.flatMap((i) =>
      Object.entries(i.metadata).map(([key, value]) => sql`(${join([d.text(i.row.id), d.text(key), d.text(value), d.timestamp(i.row.createdAt), d.timestamp(i.row.createdAt), d.boolean(false)])})`),
    );
    if (metadata.length > 0) {
      await tx.execute(sql`INSERT INTO snapshot_metadata (snapshot_id, key, value, created_at, updated_at, deleted) VALUES ${join(metadata)}`);
    }
  }
  return { refused, overQuota };
}
