// One volume event's way through the service: read the row (with its live attachments) -> pure
// step of the volume machine -> one transaction holding the row at the version the step was
// computed from, with the conditions on the volume's snapshots, the attachment, the history row
// and the effects (commit-volume-step.ts) -> tell listeners (the runner wakes for the effects).
// A row that moved on meanwhile is read again and the event offered again, as the group
// committer does for snapshots; volume events are rare, so each has a transaction of its own.
import { randomUUID } from 'node:crypto';
import { initialVolumeSnapshot, restoreVolume, stepVolume, type VolumeMachineSnapshot } from '../../machines/volume-derive.js';
import type { VolumeEvent, VolumeSource } from '../../machines/volume.js';
import { eventPayload } from './event-payload.js';
import type { EngineEventBus } from './events.js';
import type { SnapshotStore, VolumeWithAttachments } from './store/index.js';
import type { QuotaDemand, QuotaRefusal } from './store/quota.js';
import type { TransferWrite, VolumeConditionFailure, VolumeHistoryRow, VolumeIdentity, VolumeStepWrite } from './store/rows.js';
import type { Clock, EngineHooks, EventSource, VolumeTransitionCommitted } from './types.js';
import { conditionsFor, volumeRejectionReason } from './volume-rules.js';
import { volumeStateColumns } from './volume-state-columns.js';

export interface VolumeDelivery {
  volumeId: string;
  /** os-detach's `remaining` is counted here from the row's attachments: leave it out. */
  event: VolumeEvent | { type: 'os-detach' };
  source: EventSource;
  /** A job's result: the version its job was queued at (a moved-on volume refuses it as stale). */
  expectedVersion?: number;
  /** The outbox job this event answers; closed in the same commit either way. */
  completesJob?: number;
  /** The driver's result for the row, written only if the event is accepted. */
  providerLocation?: string | null;
  /** os-attach: the attachment to write with the transition. */
  attach?: { instanceUuid: string | null; mountpoint: string; connectionInfo: unknown };
  /** os-detach: the attachment to close (null: every live one). */
  detach?: { attachmentId: string | null };
  /** os-retype: the volume's new type, written only if the event is accepted. */
  volumeTypeId?: string;
  /** What an accepted event adds to the project's quota usage (an extend's gigabytes), judged in its transaction. */
  quota?: QuotaDemand;
  /** A finished extend's size, written only if the event is accepted. */
  size?: number;
  /** volume_admin_metadata keys to set (null removes), written only if the event is accepted. */
  adminMetadata?: Record<string, string | null>;
  /** The transfer row this event writes (transfer.create / accept / delete). */
  transfer?: TransferWrite;
}

/** A create from a source: what the source is, and the statuses it may be copied in. */
export interface VolumeStartSource {
  source: VolumeSource;
  statuses: readonly string[];
}

export type VolumeOutcome =
  | { kind: 'accepted'; volumeId: string; version: number; fromPhase: string | null; toPhase: string; fromStatus: string | null; toStatus: string; effects: string[]; attachmentId?: string }
  /** The machine refused the event in the volume's current state (recorded in the history). */
  | { kind: 'rejected'; volumeId: string; version: number; phase: string; status: string; reason: string }
  /** The machine took it, the volume's other rows did not allow it (recorded in the history). */
  | { kind: 'refused'; volumeId: string; status: string; reason: string; failure: VolumeConditionFailure }
  | { kind: 'attachment_not_found'; volumeId: string; attachmentId: string }
  | { kind: 'transfer_not_found'; volumeId: string; transferId: string }
  | { kind: 'conflict'; volumeId: string; expectedVersion: number; actualVersion: number }
  | { kind: 'not_found'; volumeId: string }
  /** The project's quota does not hold what the event adds (nothing written). */
  | { kind: 'over_quota'; volumeId: string; refusal: QuotaRefusal };

export class VolumeCommitter {
  constructor(
    private readonly store: SnapshotStore,
    private readonly clock: Clock,
    private readonly events: EngineEventBus,
    private readonly maxConflictRetries: number,
    private readonly hooks: EngineHooks = {},
  ) {}

  /** Commits one step; the test hooks see the volume's id where a snapshot's would be. */
  private commit(w: VolumeStepWrite) {
    const before = this.hooks.beforeCommit;
    return this.store.commitVolumeStep(w, before ? async () => void (await before({ snapshotId: w.volumeId, event: w.history.eventType })) : undefined);
  }

  /**
   * Creates the volume row from its first event (the create request), within its project's quota
   * when given one. With a data source, the source is held in one of its statuses by the same
   * transaction; `source_unavailable` (nothing written) when it no longer is, with its status then
   * (null: gone).
   */
  async start(
    identity: VolumeIdentity & { metadata?: Record<string, string> },
    source: EventSource,
    opts: { quota?: QuotaDemand; from?: VolumeStartSource } = {},
  ): Promise<Extract<VolumeOutcome, { kind: 'accepted' | 'over_quota' }> | { kind: 'source_unavailable'; status: string | null }> {
    const { quota, from } = opts;
    const now = this.clock();
    const event: VolumeEvent = from ? { type: 'volume.create', source: from.source } : { type: 'volume.create' };
    const result = stepVolume(initialVolumeSnapshot(), event);
    if (!result.accepted) throw new Error('the volume machine refused its create event');
    const columns = volumeStateColumns(result.next, now);
    const write: VolumeStepWrite = {
      volumeId: identity.id,
      insert: { ...identity, createdAt: now },
      fromVersion: 0,
      update: { version: 1, updatedAt: now, columns },
      history: history(identity.id, 1, null, columns, event, source, now, false, null),
      outbox: result.effects.map((kind) => ({ kind, phase: columns.phase, version: 1, runAfter: now, createdAt: now })),
      conditions: [],
      ...(quota ? { quota } : {}),
      ...(from ? { sourceGuard: { kind: from.source.kind, id: from.source.id, statuses: from.statuses } } : {}),
    };
    const committed = await this.commit(write);
    if (committed.kind === 'over_quota') return { kind: 'over_quota', volumeId: identity.id, refusal: committed.refusal };
    if (committed.kind === 'source_unavailable') return committed;
    if (committed.kind !== 'committed') throw new Error(`volume ${identity.id}: create not committed (${committed.kind})`);
    return this.announce(identity.id, 1, null, columns, null, event, source, result.effects, now);
  }

  /**
   * Offers an event to a volume's machine. Accepted: the new state, its history row, effects and
   * attachment commit together. Refused by the machine or by the volume's snapshots: only a
   * history row marked rejected (and the job it answers, closed).
   */
  async deliver(d: VolumeDelivery): Promise<VolumeOutcome> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.once(d);
      if (outcome !== 'conflict') return outcome;
      if (attempt >= this.maxConflictRetries) throw new Error(`volume ${d.volumeId}: event kept conflicting after ${attempt} attempts`);
    }
  }

  private async once(d: VolumeDelivery): Promise<VolumeOutcome | 'conflict'> {
    const row = await this.store.readVolume(d.volumeId);
    const fromJob = d.completesJob !== undefined || d.expectedVersion !== undefined;
    // A deleted volume is gone for requests (404); only the work it left behind is still judged.
    if (!row || (row.deleted && !fromJob)) return { kind: 'not_found', volumeId: d.volumeId };
    const now = this.clock();
    const event = this.eventFor(d, row);
    const refuse = async (reason: string): Promise<VolumeOutcome | 'conflict'> => {
      const r = await this.commit(
        {
          volumeId: row.id,
          fromVersion: row.version,
          history: history(row.id, row.version, row, row, event, d.source, now, true, reason),
          outbox: [],
          conditions: [],
          ...(d.completesJob !== undefined ? { closesJob: { jobId: d.completesJob, status: 'cancelled' as const, error: reason } } : {}),
        },
      );
      if (r.kind === 'conflict') return 'conflict';
      return { kind: 'rejected', volumeId: row.id, version: row.version, phase: row.phase, status: row.status, reason };
    };

    if (d.expectedVersion !== undefined && row.version !== d.expectedVersion) {
      if (d.completesJob !== undefined) {
        return refuse(`stale ${event.type}: its job was queued at version ${d.expectedVersion}, the volume is at version ${row.version} (${row.phase})`);
      }
      return { kind: 'conflict', volumeId: row.id, expectedVersion: d.expectedVersion, actualVersion: row.version };
    }
    if (d.detach?.attachmentId && !row.attachments.some((a) => a.id === d.detach!.attachmentId)) {
      return { kind: 'attachment_not_found', volumeId: row.id, attachmentId: d.detach.attachmentId };
    }

    const current: VolumeMachineSnapshot = restoreVolume(JSON.parse(row.machineState));
    const result = stepVolume(current, event);
    if (!result.accepted) return refuse(volumeRejectionReason(row.status, row.phase, event));

    const columns = volumeStateColumns(result.next, now, row);
    const version = row.version + 1;
    const attachmentId = d.attach ? randomUUID() : undefined;
    const write: VolumeStepWrite = {
      volumeId: row.id,
      fromVersion: row.version,
      update: {
        version,
        updatedAt: now,
        columns,
        ...(d.providerLocation !== undefined ? { providerLocation: d.providerLocation } : {}),
        ...(d.volumeTypeId !== undefined ? { volumeTypeId: d.volumeTypeId } : {}),
        ...(d.size !== undefined ? { size: d.size } : {}),
      },
      ...(d.adminMetadata ? { adminMetadata: d.adminMetadata } : {}),
      ...(d.transfer ? { transfer: d.transfer } : {}),
      history: history(row.id, version, row, columns, event, d.source, now, false, columns.errorReason),
      outbox: result.effects.map((kind) => ({ kind, phase: columns.phase, version, runAfter: now, createdAt: now })),
      conditions: conditionsFor(event),
      ...(row.phase === columns.phase && result.effects.length === 0 ? { carriesJobsOf: row.phase } : {}),
      ...(d.attach
        ? {
            attach: {
              id: attachmentId!,
              instanceUuid: d.attach.instanceUuid,
              mountpoint: d.attach.mountpoint,
              connectionInfo: d.attach.connectionInfo === undefined ? null : JSON.stringify(d.attach.connectionInfo),
              at: now,
            },
          }
        : {}),
      ...(d.detach ? { detach: { attachmentId: d.detach.attachmentId, at: now } } : {}),
      ...(d.completesJob !== undefined ? { closesJob: { jobId: d.completesJob, status: 'done' as const } } : {}),
      ...(d.quota ? { quota: d.quota } : {}),
    };
    const r = await this.commit(write);
    if (r.kind === 'transfer_missing') return { kind: 'transfer_not_found', volumeId: row.id, transferId: d.transfer && d.transfer.kind !== 'create' ? d.transfer.transferId : '' };
    if (r.kind === 'conflict' || r.kind === 'attachment_missing' || r.kind === 'source_unavailable') return 'conflict';
    if (r.kind === 'over_quota') return { kind: 'over_quota', volumeId: row.id, refusal: r.refusal };
    if (r.kind === 'condition_failed') return { kind: 'refused', volumeId: row.id, status: row.status, reason: r.reason, failure: r.failure };
    const accepted = this.announce(row.id, version, row, columns, row.status, event, d.source, result.effects, now);
    return attachmentId ? { ...accepted, attachmentId } : accepted;
  }

  /** os-detach carries how many attachments stay: counted from the row this step is judged on. */
  private eventFor(d: VolumeDelivery, row: VolumeWithAttachments): VolumeEvent {
    if (d.event.type !== 'os-detach') return d.event as VolumeEvent;
    const id = d.detach?.attachmentId ?? null;
    const remaining = id === null ? 0 : row.attachments.filter((a) => a.id !== id).length;
    return { type: 'os-detach', remaining };
  }

  private announce(
    volumeId: string,
    version: number,
    from: { phase: string } | null,
    to: { phase: string; status: string },
    fromStatus: string | null,
    event: VolumeEvent,
    source: EventSource,
    effects: string[],
    at: Date,
  ): Extract<VolumeOutcome, { kind: 'accepted' }> {
    // Hooks are for tests (crash points); a throwing listener must not hide the transition.
    void Promise.resolve(this.hooks.afterCommit?.({ snapshotId: volumeId, event: event.type, effects }));
    this.events.emit('volumeTransition', { volumeId, version, fromPhase: from?.phase ?? null, toPhase: to.phase, toStatus: to.status, eventType: event.type, source, effects, at });
    return { kind: 'accepted', volumeId, version, fromPhase: from?.phase ?? null, toPhase: to.phase, fromStatus, toStatus: to.status, effects };
  }
}

function history(
  volumeId: string,
  version: number,
  from: { phase: string; status: string } | null,
  to: { phase: string; status: string },
  event: VolumeEvent,
  source: EventSource,
  at: Date,
  rejected: boolean,
  reason: string | null,
): VolumeHistoryRow {
  return {
    volumeId,
    version,
    fromPhase: from?.phase ?? null,
    toPhase: to.phase,
    fromStatus: from?.status ?? null,
    toStatus: to.status,
    eventType: event.type,
    source,
    payload: eventPayload(event),
    rejected,
    reason,
    createdAt: at,
  };
}
