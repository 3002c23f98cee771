// One event of a volume's machine, in one transaction: the row inserted (a create) or moved from
// the version its step was computed from, the conditions on other rows the machine cannot see
// (the volume's snapshots), its attachment written, its history row and effects, and the job it
// answers closed. Volume events are few (a handful per volume's life), so they are committed one
// at a time rather than grouped like snapshot callbacks.
//
// Moving the volume row first takes its row lock (PostgreSQL; SQLite's write transaction already
// serialises everything), and snapshot creation holds the same row (insert-snapshots.ts) while
// it checks the volume's status: so a count of snapshots taken after the move cannot miss one
// that is being created, and a snapshot cannot appear on a volume being deleted or detached.
import type { Db } from '../../db/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { conditionRefusal } from '../volume-rules.js';
import { closeJobs } from './close-jobs.js';
import { type Dialect, empty, join, raw, sql } from './dialect.js';
import { enqueueJobs } from './enqueue-jobs.js';
import { admitQuotas, type QuotaRefusal } from './quota.js';
import { writeKeyValues } from './key-values.js';
import type { TransferWrite, VolumeConditionFailure, VolumeHistoryRow, VolumeSourceGuard, VolumeStepWrite } from './rows.js';

export type VolumeStepResult =
  | { kind: 'committed' }
  /** The row was not at `fromVersion` (or, for a create, already existed): nothing written. */
  | { kind: 'conflict' }
  /** A condition did not hold: only a rejected history row (and the job's close) was written. */
  | { kind: 'condition_failed'; failure: VolumeConditionFailure; reason: string }
  /** The attachment to close is not a live one of this volume: nothing written. */
  | { kind: 'attachment_missing' }
  /** The project's quota does not hold what the step adds: nothing written. */
  | { kind: 'over_quota'; refusal: QuotaRefusal }
  /** A create's source is gone or no longer in a status it can be copied in: nothing written. */
  | { kind: 'source_unavailable'; status: string | null }
  /** The transfer named is not a live one of this volume: nothing written. */
  | { kind: 'transfer_missing' };

/** Thrown inside the transaction only to roll it back. */
class Rollback extends Error {
  constructor(readonly result: VolumeStepResult) {
    super(result.kind);
  }
}

export async function commitVolumeStep(
  db: Db,
  d: Dialect,
  w: VolumeStepWrite,
  /** Runs inside the transaction after every write (crash tests kill the process there). */
  beforeCommit?: () => Promise<void>,
): Promise<VolumeStepResult> {
  try {
    return await db.sql.transaction(async (tx) => {
      // A create has no row to hold yet; any other step holds its row first (the lock order of quota.ts).
      if (!w.insert && !(await guard(tx, d, w))) return { kind: 'conflict' } as const;
      if (w.quota && w.update) {
        const [refusal] = await admitQuotas(tx, d, [w.quota]);
        if (refusal) throw new Rollback({ kind: 'over_quota', refusal });
      }
      if (w.insert) {
        const u = w.update!;
        const c = u.columns;
        const i = w.insert;
        if (w.sourceGuard) {
          const status = await holdSource(tx, d, w.sourceGuard);
          if (status !== true) throw new Rollback({ kind: 'source_unavailable', status });
        }
        await tx.execute(sql`
          INSERT INTO volumes (id, project_id, user_id, name, description, size, status, attach_status, created_at, updated_at,
            deleted, deleted_at, machine_state, phase, version, phase_entered_at, error_reason, volume_type_id, group_id, snapshot_id, source_volid)
          VALUES (${join([
            d.text(i.id), d.text(i.projectId), d.text(i.userId), d.text(i.name), d.text(i.description), d.integer(i.size),
            d.text(c.status), d.text(c.attachStatus), d.timestamp(i.createdAt), d.timestamp(u.updatedAt), d.boolean(c.deleted),
            d.timestamp(c.deletedAt), d.text(c.machineState), d.text(c.phase), d.integer(u.version), d.timestamp(c.phaseEnteredAt),
            d.text(c.errorReason), d.text(i.volumeTypeId), d.text(i.groupId ?? null), d.text(i.snapshotId ?? null), d.text(i.sourceVolid ?? null),
          ])})`);
        const metadata = Object.entries(i.metadata ?? {}).map(([key, value]) => ({ ownerId: i.id, key, value }));
        if (metadata.length > 0) await writeKeyValues(tx, d, 'volume_metadata', metadata, i.createdAt);
      }

      if (w.update) {
        for (const condition of w.conditions) {
          const failure = await check(tx, d, w.volumeId, condition);
          if (failure) {
            // The machine took the event, the database refuses it: recorded as refused, the
            // row left as it was (its guard above stays, so the refusal is judged on this row).
            const reason = conditionRefusal(failure);
            await appendVolumeHistory(tx, d, { ...w.history, version: w.fromVersion, toPhase: w.history.fromPhase!, toStatus: w.history.fromStatus!, rejected: true, reason });
            if (w.closesJob) await closeJobs(tx, d, [{ snapshotId: null, jobId: w.closesJob.jobId, status: 'cancelled', error: reason }], w.history.createdAt);
            return { kind: 'condition_failed', failure, reason } as const;
          }
        }
        if (w.detach && !(await closeAttachments(tx, d, w.volumeId, w.detach))) throw new Rollback({ kind: 'attachment_missing' });
        if (w.attach) {
          const a = w.attach;
          await tx.execute(sql`
            INSERT INTO volume_attachment (id, volume_id, instance_uuid, mountpoint, attach_status, connection_info, attach_time, created_at, updated_at, deleted)
            VALUES (${join([
              d.text(a.id), d.text(w.volumeId), d.text(a.instanceUuid), d.text(a.mountpoint), d.text('attached'), d.text(a.connectionInfo),
              d.timestamp(a.at), d.timestamp(a.at), d.timestamp(a.at), d.boolean(false),
            ])})`);
        }
        if (w.transfer && !(await writeTransfer(tx, d, w.volumeId, w.transfer, w.history.createdAt))) throw new Rollback({ kind: 'transfer_missing' });
        if (!w.insert) await move(tx, d, w);
        if (w.adminMetadata) {
          const writes = Object.entries(w.adminMetadata).map(([key, value]) => ({ ownerId: w.volumeId, key, value }));
          await writeKeyValues(tx, d, 'volume_admin_metadata', writes, w.history.createdAt);
        }
        if (w.carriesJobsOf !== undefined) {
          await tx.execute(sql`
            UPDATE outbox SET version = ${d.integer(w.update.version)}
            WHERE volume_id = ${d.text(w.volumeId)} AND status = ${d.text('pending')} AND phase = ${d.text(w.carriesJobsOf)}
              AND version = ${d.integer(w.fromVersion)}`);
        }
      }
      await appendVolumeHistory(tx, d, w.history);
      if (w.update) await enqueueJobs(tx, d, w.outbox.map((j) => ({ ...j, snapshotId: null, volumeId: w.volumeId })));
      if (w.closesJob) await closeJobs(tx, d, [{ snapshotId: null, ...w.closesJob }], w.history.createdAt);
      await beforeCommit?.();
      return { kind: 'committed' } as const;
    });
  } catch (err) {
    if (err instanceof Rollback) return err.result;
    throw err;
  }
}

/** Holds the row at the version the step was computed from (and locks it); false: it moved on. */
async function guard(tx: SqlRunner, d: Dialect, w: VolumeStepWrite): Promise<boolean> {
  const held = await tx.query<{ id: string }>(sql`
    UPDATE volumes SET version = version WHERE id = ${d.text(w.volumeId)} AND version = ${d.integer(w.fromVersion)} RETURNING id`);
  return held.length === 1;
}

async function move(tx: SqlRunner, d: Dialect, w: VolumeStepWrite) {
  const u = w.update!;
  const c = u.columns;
  await tx.execute(sql`
    UPDATE volumes SET machine_state = ${d.text(c.machineState)}, phase = ${d.text(c.phase)}, status = ${d.text(c.status)},
      attach_status = ${d.text(c.attachStatus)}, error_reason = ${d.text(c.errorReason)}, phase_entered_at = ${d.timestamp(c.phaseEnteredAt)},
      deleted = ${d.boolean(c.deleted)}, deleted_at = ${d.timestamp(c.deletedAt)}, version = ${d.integer(u.version)},
      updated_at = ${d.timestamp(u.updatedAt)},
      size = CASE WHEN ${d.boolean(u.size !== undefined)} THEN ${d.integer(u.size ?? 0)} ELSE size END,
      provider_location = CASE WHEN ${d.boolean(u.providerLocation !== undefined)} THEN ${d.text(u.providerLocation ?? null)} ELSE provider_location END,
      volume_type_id = CASE WHEN ${d.boolean(u.volumeTypeId !== undefined)} THEN ${d.text(u.volumeTypeId ?? null)} ELSE volume_type_id END
    WHERE id = ${d.text(w.volumeId)}`);
}

async function check(tx: SqlRunner, d: Dialect, volumeId: string, c: VolumeStepWrite['conditions'][number]): Promise<VolumeConditionFailure | null> {
  if (c.kind === 'no_clones_in_progress') {
    // The copy reads the source's files: the source stays until every volume made from it is.
    const rows = await tx.query<{ id: string; status: string }>(sql`
      SELECT id, status FROM volumes WHERE source_volid = ${d.text(volumeId)} AND phase = ${d.text('creating')} AND deleted = ${d.boolean(false)}
      ORDER BY created_at, id`);
    return rows.length === 0 ? null : { kind: c.kind, snapshots: rows };
  }
  const statusFilter =
    c.kind === 'no_snapshots_in'
      ? sql`AND status IN (${join(c.statuses.map((s) => d.text(s)))})`
      : c.kind === 'only_snapshots_in'
        ? sql`AND status NOT IN (${join(c.statuses.map((s) => d.text(s)))})`
        : empty;
  const rows = await tx.query<{ id: string; status: string }>(sql`
    SELECT id, status FROM snapshots WHERE volume_id = ${d.text(volumeId)} AND deleted = ${d.boolean(false)} ${statusFilter} ORDER BY created_at, id`);
  return rows.length === 0 ? null : { kind: c.kind, snapshots: rows.map((r) => ({ id: r.id, status: r.status })) };
}

/**
 * Holds a new volume's source in its status for the create's transaction (the row lock on
 * PostgreSQL, the write lock on SQLite): a delete of the source that commits after this one sees
 * the new volume being created from it. true: held; otherwise the source's status (null: gone).
 */
async function holdSource(tx: SqlRunner, d: Dialect, g: VolumeSourceGuard): Promise<true | string | null> {
  const table = raw(g.kind === 'snapshot' ? 'snapshots' : 'volumes');
  const held = await tx.query<{ id: string }>(sql`
    UPDATE ${table} SET status = status
    WHERE id = ${d.text(g.id)} AND deleted = ${d.boolean(false)} AND status IN (${join(g.statuses.map((s) => d.text(s)))})
    RETURNING id`);
  if (held.length === 1) return true;
  const rows = await tx.query<{ status: string }>(sql`SELECT status FROM ${table} WHERE id = ${d.text(g.id)} AND deleted = ${d.boolean(false)}`);
  return rows[0]?.status ?? null;
}

/** The transfer's row with the volume's step; false: the transfer named is not a live one of this volume. */
async function writeTransfer(tx: SqlRunner, d: Dialect, volumeId: string, t: TransferWrite, at: Date): Promise<boolean> {
  if (t.kind === 'create') {
    const r = t.transfer;
    await tx.execute(sql`
      INSERT INTO transfers (id, volume_id, display_name, salt, crypt_hash, expires_at, no_snapshots, source_project_id,
        destination_project_id, accepted, created_at, updated_at, deleted_at, deleted)
      VALUES (${join([
        d.text(r.id), d.text(volumeId), d.text(r.displayName), d.text(r.salt), d.text(r.cryptHash), d.timestamp(null), d.boolean(r.noSnapshots),
        d.text(r.sourceProjectId), d.text(null), d.boolean(false), d.timestamp(at), d.timestamp(at), d.timestamp(null), d.boolean(false),
      ])})`);
    return true;
  }
  // Cinder's transfer_accept and transfer_destroy both soft-delete the row; accept records who took it.
  const accepted = t.kind === 'accept';
  const closed = await tx.execute(sql`
    UPDATE transfers SET deleted = ${d.boolean(true)}, deleted_at = ${d.timestamp(at)}, updated_at = ${d.timestamp(at)},
      accepted = ${d.boolean(accepted)}, destination_project_id = ${d.text(accepted ? t.projectId : null)}
    WHERE id = ${d.text(t.transferId)} AND volume_id = ${d.text(volumeId)} AND deleted = ${d.boolean(false)}`);
  if (closed !== 1) return false;
  if (t.kind === 'accept') {
    await tx.execute(sql`
      UPDATE volumes SET project_id = ${d.text(t.projectId)}, user_id = ${d.text(t.userId)} WHERE id = ${d.text(volumeId)}`);
    if (!t.noSnapshots) {
      await tx.execute(sql`
        UPDATE snapshots SET project_id = ${d.text(t.projectId)}, user_id = ${d.text(t.userId)}, updated_at = ${d.timestamp(at)}
        WHERE volume_id = ${d.text(volumeId)} AND deleted = ${d.boolean(false)}`);
    }
  }
  return true;
}

async function closeAttachments(tx: SqlRunner, d: Dialect, volumeId: string, detach: NonNullable<VolumeStepWrite['detach']>): Promise<boolean> {
  const only = detach.attachmentId ? sql`AND id = ${d.text(detach.attachmentId)}` : empty;
  const closed = await tx.execute(sql`
    UPDATE volume_attachment SET attach_status = ${d.text('detached')}, detach_time = ${d.timestamp(detach.at)}, deleted = ${d.boolean(true)},
      deleted_at = ${d.timestamp(detach.at)}, updated_at = ${d.timestamp(detach.at)}
    WHERE volume_id = ${d.text(volumeId)} AND deleted = ${d.boolean(false)} ${only}`);
  return detach.attachmentId === null || closed === 1;
}

async function appendVolumeHistory(tx: SqlRunner, d: Dialect, h: VolumeHistoryRow) {
  await tx.execute(sql`
    INSERT INTO volume_transitions
      (volume_id, version, from_phase, to_phase, from_status, to_status, event_type, source, payload, rejected, reason, created_at)
    VALUES (${join([
      d.text(h.volumeId), d.integer(h.version), d.text(h.fromPhase), d.text(h.toPhase), d.text(h.fromStatus), d.text(h.toStatus),
      d.text(h.eventType), d.text(h.source), d.text(h.payload), d.boolean(h.rejected), d.text(h.reason), d.timestamp(h.createdAt),
    ])})`);
}
