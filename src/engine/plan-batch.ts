// The pure half of a group commit: offers a batch's events to their snapshots' machines in
// arrival order and turns the outcomes into the rows to write. Events for the same snapshot chain
// on one another's result; nothing here touches the database or the clock.
import { initialSnapshot, restore, statusOfPhase, step, type ComputeWaitSeconds, type MachineSnapshot } from '../../machines/derive.js';
import type { SnapshotEvent } from '../../machines/snapshot.js';
import { rejectionReason } from './rejection-reason.js';
import { eventPayload } from './event-payload.js';
import { stateColumns } from './state-columns.js';
import { emptyWrites, type BatchWrites, type SnapshotRow, type StateColumns } from './store/rows.js';
import type { CommittedTransition, EventSource, Outcome, Submission } from './types.js';

export interface PlannedItem {
  /** The snapshot whose version guard this item's writes depend on (null: none). */
  snapshotId: string | null;
  outcome?: Outcome;
  transition?: CommittedTransition;
  /** The item could not be planned (bad input); it fails alone. */
  error?: Error;
}

interface Working {
  origin: SnapshotRow;
  machine: MachineSnapshot;
  version: number;
  columns: StateColumns;
  accepted: boolean;
  /** Offered at least one event that reached the machine (accepted or refused): guarded. */
  touched: boolean;
  providerLocation?: string | null;
  providerId?: string | null;
}

const columnsOf = (row: SnapshotRow): StateColumns => ({
  machineState: row.machineState,
  phase: row.phase,
  status: row.status,
  progress: row.progress,
  errorReason: row.errorReason,
  deadlineAt: row.deadlineAt,
  phaseEnteredAt: row.phaseEnteredAt,
  deleted: row.deleted,
  deletedAt: row.deletedAt,
});

export function planBatch(
  batch: readonly Submission[],
  rows: ReadonlyMap<string, SnapshotRow>,
  now: Date,
  waits: ComputeWaitSeconds,
): { writes: BatchWrites; planned: PlannedItem[] } {
  const writes = emptyWrites();
  const working = new Map<string, Working>();
  const workingFor = (id: string): Working | undefined => {
    const known = working.get(id);
    if (known) return known;
    const row = rows.get(id);
    if (!row) return undefined;
    const w: Working = { origin: row, machine: restore(JSON.parse(row.machineState)), version: row.version, columns: columnsOf(row), accepted: false, touched: false };
    working.set(id, w);
    return w;
  };
  const history = (snapshotId: string, version: number, from: StateColumns | null, to: StateColumns, event: SnapshotEvent, source: EventSource, rejected: boolean, reason: string | null, pausedMs?: number) =>
    writes.history.push({
      snapshotId,
      version,
      fromPhase: from?.phase ?? null,
      toPhase: to.phase,
      fromStatus: from?.status ?? null,
      toStatus: to.status,
      eventType: event.type,
      source,
      payload: pausedMs === undefined ? eventPayload(event) : eventPayload(Object.assign({ paused_ms: pausedMs }, event)),
      rejected,
      reason,
      createdAt: now,
    });

  const planned = batch.map((sub): PlannedItem => {
    if (sub.kind === 'close') {
      writes.jobCloses.push({ snapshotId: null, jobId: sub.jobId, status: sub.status, error: sub.error ?? null });
      return { snapshotId: null, outcome: { kind: 'closed', jobId: sub.jobId } };
    }

    if (sub.kind === 'create') {
      const s = sub.snapshot;
      const result = step(initialSnapshot(), sub.event);
      if (!result.accepted) return { snapshotId: s.id, error: new Error('the snapshot machine refused its create event') };
      const columns = stateColumns(result.next, now, waits);
      writes.inserts.push({
        row: { id: s.id, volumeId: s.volumeId, projectId: s.projectId, userId: s.userId, name: s.name, description: s.description, volumeSize: s.volumeSize, groupSnapshotId: s.groupSnapshotId ?? null, version: 1, createdAt: now, updatedAt: now, ...columns },
        metadata: s.metadata,
        ...(sub.volumeGuard ? { volumeGuard: sub.volumeGuard } : {}),
        ...(sub.quota ? { quota: sub.quota } : {}),
      });
      history(s.id, 1, null, columns, sub.event, sub.source, false, null);
      for (const kind of result.effects) writes.outbox.push({ snapshotId: s.id, kind, phase: columns.phase, version: 1, runAfter: now, createdAt: now });
      const transition: CommittedTransition = {
        snapshotId: s.id, version: 1, fromPhase: null, toPhase: columns.phase, toStatus: columns.status, eventType: sub.event.type,
        source: sub.source, effects: result.effects, at: now, fromPhaseEnteredAt: null,
      };
      return { snapshotId: s.id, transition, outcome: accepted(transition, null) };
    }

    const d = sub.delivery;
    const w = workingFor(d.snapshotId);
    // A deleted snapshot is gone for requests (Cinder answers 404); only the work it left behind
    // (a job's result, a deadline) is still judged, and recorded, by its machine.
    if (!w || (w.origin.deleted && d.completesJob === undefined && d.expectedVersion === undefined)) {
      return { snapshotId: null, outcome: { kind: 'not_found', snapshotId: d.snapshotId } };
    }
    const fromStatus = w.columns.status;
    const refuse = (reason: string): PlannedItem => {
      w.touched = true;
      history(d.snapshotId, w.version, w.columns, w.columns, d.event, d.source, true, reason);
      if (d.completesJob !== undefined) writes.jobCloses.push({ snapshotId: d.snapshotId, jobId: d.completesJob, status: 'cancelled', error: reason });
      // A refusal is judged against the state it was offered to: the row is guarded, unchanged.
      return { snapshotId: d.snapshotId, outcome: { kind: 'rejected', snapshotId: d.snapshotId, version: w.version, phase: w.columns.phase, status: w.columns.status, reason } };
    };

    if (d.expectedVersion !== undefined && w.version !== d.expectedVersion) {
      // A job's result is refused (and recorded) when the snapshot moved on since the job was
      // queued; a caller without a job (a swept deadline) only learns of the conflict.
      if (d.completesJob !== undefined) {
        return refuse(`stale ${d.event.type}: its job was queued at version ${d.expectedVersion}, the snapshot is at version ${w.version} (${w.columns.phase})`);
      }
      return { snapshotId: null, outcome: { kind: 'conflict', snapshotId: d.snapshotId, expectedVersion: d.expectedVersion, actualVersion: w.version } };
    }
    const unknownFields = Object.keys(d.writes?.snapshot ?? {}).filter((k) => k !== 'providerLocation' && k !== 'providerId');
    if (unknownFields.length > 0) {
      return { snapshotId: null, error: new Error(`driver result sets snapshot fields it may not set: ${unknownFields.join(', ')}`) };
    }

    const result = step(w.machine, d.event);
    if (!result.accepted) return refuse(rejectionReason(w.columns.status, w.columns.phase, d.event, statusOfPhase('deleted')));

    const from = w.columns;
    const columns = stateColumns(result.next, now, waits, from);
    const version = w.version + 1;
    // The pause window is exactly the create's compute phase, so its entry time is the window's start.
    const pausedMs = result.effects.includes('resumeGuest') ? now.getTime() - from.phaseEnteredAt.getTime() : undefined;
    // Why the snapshot is in error / error_deleting, on the row that put it there.
    history(d.snapshotId, version, from, columns, d.event, d.source, false, columns.errorReason, pausedMs);
    for (const kind of result.effects) writes.outbox.push({ snapshotId: d.snapshotId, kind, phase: columns.phase, version, runAfter: now, createdAt: now });
    const r = d.writes;
    if (r?.snapshot?.providerLocation !== undefined) w.providerLocation = r.snapshot.providerLocation;
    if (r?.snapshot?.providerId !== undefined) w.providerId = r.snapshot.providerId;
    for (const [key, value] of Object.entries(r?.adminMetadata ?? {})) writes.adminMetadata.push({ snapshotId: d.snapshotId, key, value });
    if (r?.volume && (Object.keys(r.volume.adminMetadata ?? {}).length > 0 || r.volume.connectionInfo)) {
      writes.volumeWrites.push({
        snapshotId: d.snapshotId,
        volumeId: w.origin.volumeId,
        adminMetadata: r.volume.adminMetadata ?? {},
        ...(r.volume.connectionInfo ? { connectionInfo: r.volume.connectionInfo } : {}),
      });
    }
    if (d.completesJob !== undefined) writes.jobCloses.push({ snapshotId: d.snapshotId, jobId: d.completesJob, status: 'done' });
    w.machine = result.next;
    w.version = version;
    w.columns = columns;
    w.accepted = true;
    w.touched = true;
    const transition: CommittedTransition = {
      snapshotId: d.snapshotId, version, fromPhase: from.phase, toPhase: columns.phase, toStatus: columns.status, eventType: d.event.type,
      source: d.source, effects: result.effects, at: now, fromPhaseEnteredAt: from.phaseEnteredAt,
      ...(pausedMs !== undefined ? { pausedMs } : {}),
    };
    return { snapshotId: d.snapshotId, transition, outcome: accepted(transition, fromStatus) };
  });

  for (const [id, w] of working) {
    if (!w.touched) continue;
    writes.updates.push({
      id,
      fromVersion: w.origin.version,
      version: w.version,
      // Refused events leave the row as users see it, updated_at included.
      updatedAt: w.accepted ? now : w.origin.updatedAt,
      columns: w.columns,
      ...(w.providerLocation !== undefined ? { providerLocation: w.providerLocation } : {}),
      ...(w.providerId !== undefined ? { providerId: w.providerId } : {}),
    });
  }
  return { writes, planned };
}

function accepted(t: CommittedTransition, fromStatus: string | null): Outcome {
  return {
    kind: 'accepted',
    snapshotId: t.snapshotId,
    version: t.version,
    fromPhase: t.fromPhase,
    toPhase: t.toPhase,
    fromStatus,
    toStatus: t.toStatus,
    effects: t.effects,
    attempts: 1,
  };
}

/** The row a snapshot has after a committed batch, for the committer's cache of recent rows. */
export function rowAfter(origin: SnapshotRow, u: { version: number; updatedAt: Date; columns: StateColumns; providerLocation?: string | null; providerId?: string | null }): SnapshotRow {
  return {
    ...origin,
    ...u.columns,
    version: u.version,
    updatedAt: u.updatedAt,
    ...(u.providerLocation !== undefined ? { providerLocation: u.providerLocation } : {}),
    ...(u.providerId !== undefined ? { providerId: u.providerId } : {}),
  };
}
