// Snapshot commands: each is validated against the current rows, turned into a machine event and
// handed to the engine; the manager never writes a snapshot's status itself.
import { randomUUID } from 'node:crypto';
import { callbackTransitions } from '../../machines/derive.js';
import type { ComputeSnapshotStatus, ResettableStatus } from '../../machines/snapshot.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import type { SnapshotRow } from '../engine/store/index.js';
import type { Outcome } from '../engine/types.js';
import { InvalidRequest, NotFound } from './errors.js';
import { checkMetadataItems, type Limits } from './limits.js';
import { overQuota, type Quotas } from './quotas.js';
import { decideGuestPause, noGuestPause, PAUSE_GUEST_KEY, type GuestPausePolicy } from './pause-policy.js';
import type { Reads } from './reads.js';

/** A snapshot by id, or the row the caller already read. */
export type SnapshotIdOrRow = string | SnapshotRow;

export interface CreateSnapshotInput {
  volumeId: string;
  projectId: string;
  userId: string;
  name?: string | null;
  description?: string | null;
  force?: boolean;
  metadata?: Record<string, string>;
}

export interface SnapshotStatusUpdate {
  status: string;
  progress?: string;
  computeSnapshotStatus?: ComputeSnapshotStatus;
  computeProgress?: string;
}

export const COMPUTE_STATUS_KEY = 'compute_snapshot_status';
export const COMPUTE_PROGRESS_KEY = 'compute_progress';

export class SnapshotCommands {
  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    private readonly reads: Reads,
    private readonly limits: Limits,
    private readonly quotas: Quotas,
    private readonly guestPause: GuestPausePolicy = noGuestPause,
  ) {}

  /** Assisted when the driver can do it and a running instance holds the volume open. */
  private assistedFor(volume: { attachStatus: string }) {
    return this.driver.supportsAssistedSnapshots && volume.attachStatus === 'attached';
  }

  async create(input: CreateSnapshotInput) {
    checkMetadataItems(Object.keys(input.metadata ?? {}).length, this.limits);
    const volume = await this.reads.liveVolume(input.volumeId);
    const usable = volume.status === 'available' || (volume.status === 'in-use' && input.force === true);
    if (!usable) {
      throw new InvalidRequest(
        volume.status === 'in-use'
          ? `Invalid volume: Volume ${volume.id} is in-use; snapshot it with force=true.`
          : `Invalid volume: Volume ${volume.id} status must be available or in-use, but is ${volume.status}.`,
      );
    }
    const assisted = this.assistedFor(volume);
    const type = assisted && volume.volumeTypeId ? await this.engine.store.volumeTypes.find(volume.volumeTypeId) : null;
    const pauseGuest = decideGuestPause(this.guestPause, type?.extraSpecs[PAUSE_GUEST_KEY], input.metadata, assisted);
    const id = randomUUID();
    const outcome = await this.engine.start(
      {
        id,
        volumeId: volume.id,
        projectId: input.projectId,
        userId: input.userId,
        name: input.name ?? null,
        description: input.description ?? null,
        volumeSize: volume.size,
        metadata: input.metadata ?? {},
      },
      { type: 'snapshot.create', assisted, ...(pauseGuest ? { pauseGuest } : {}) },
      'api',
      // The row is written only while the volume is still in the status judged here; a volume
      // delete holds the volume row the same way, so the two cannot interleave into a snapshot
      // of a deleted volume.
      { volumeId: volume.id, status: volume.status },
      // Judged in the same transaction, after the volume is held (snapshots and gigabytes).
      this.quotas.snapshotDemand(input.projectId, volume.id, volume.size),
    );
    if (outcome.kind === 'over_quota') throw overQuota(outcome.refusal);
    if (outcome.kind === 'refused') {
      throw new InvalidRequest(`Invalid volume: Volume ${volume.id} changed status while the snapshot was requested; try again.`);
    }
    if (outcome.kind !== 'accepted') throw new Error(`unexpected ${outcome.kind} for a create`);
    return outcome.row!;
  }

  /** The row a command acts on: the one the caller already read (read once), or read now. */
  private async rowOf(snapshot: SnapshotIdOrRow): Promise<SnapshotRow> {
    return typeof snapshot === 'string' ? this.reads.snapshot(snapshot) : snapshot;
  }

  async delete(snapshot: SnapshotIdOrRow) {
    const row = await this.rowOf(snapshot);
    const volume = await this.reads.liveVolume(row.volumeId);
    const outcome = await this.engine.deliver({
      snapshotId: row.id,
      event: { type: 'snapshot.delete', assisted: this.assistedFor(volume) },
      source: 'api',
      row,
    });
    return expectAccepted(outcome, (o) =>
      `Invalid snapshot: Snapshot ${row.id} status must be available, error or error_deleting to delete, but is ${o.status}.`,
    );
  }

  /**
   * Compute's callback. Every callback reaches the machine, so a refused one is in the history
   * too; a refusal is explained with Cinder's own messages when Cinder's table (derived from the
   * machine) forbids it, and with the machine's reason when only the current phase does. The
   * compute fields become admin metadata in the same commit as the transition.
   */
  async updateStatus(snapshot: SnapshotIdOrRow, update: SnapshotStatusUpdate) {
    // By id, the engine reads the row with the others of its batch: a callback needs no read here.
    const row = typeof snapshot === 'string' ? undefined : snapshot;
    const snapshotId = typeof snapshot === 'string' ? snapshot : snapshot.id;
    const adminMetadata: Record<string, string> = {};
    if (update.computeSnapshotStatus) adminMetadata[COMPUTE_STATUS_KEY] = update.computeSnapshotStatus;
    if (update.computeProgress) adminMetadata[COMPUTE_PROGRESS_KEY] = update.computeProgress;
    const outcome = await this.engine.deliver({
      snapshotId,
      event: {
        type: 'compute.status',
        status: update.status,
        ...(update.progress !== undefined ? { progress: update.progress } : {}),
        ...(update.computeSnapshotStatus ? { computeStatus: update.computeSnapshotStatus } : {}),
        ...(update.computeProgress ? { computeProgress: update.computeProgress } : {}),
      },
      source: 'compute',
      writes: { adminMetadata },
      ...(row ? { row } : {}),
    });
    return expectAccepted(outcome, (o) => callbackRefusal(o.status, update.status) ?? `Invalid snapshot: ${o.reason}.`);
  }

  async resetStatus(snapshot: SnapshotIdOrRow, status: ResettableStatus) {
    const row = await this.rowOf(snapshot);
    const outcome = await this.engine.deliver({ snapshotId: row.id, event: { type: 'admin.reset_status', status }, source: 'admin', row });
    return expectAccepted(outcome, (o) => `Invalid snapshot: cannot reset a snapshot that is ${o.status}.`);
  }

  async forceDelete(snapshot: SnapshotIdOrRow) {
    const row = await this.rowOf(snapshot);
    const volume = await this.reads.liveVolume(row.volumeId);
    const outcome = await this.engine.deliver({
      snapshotId: row.id,
      event: { type: 'admin.force_delete', assisted: this.assistedFor(volume) },
      source: 'admin',
      row,
    });
    return expectAccepted(outcome, (o) => `Invalid snapshot: cannot force-delete a snapshot that is ${o.status}.`);
  }

  /**
   * An admin asks the driver to reconcile a failed operation with the files: an `error` snapshot
   * goes to creating.reconciling, an `error_deleting` one to deleting.reconciling.
   */
  async reconcile(snapshot: SnapshotIdOrRow) {
    const row = await this.rowOf(snapshot);
    const outcome = await this.engine.deliver({ snapshotId: row.id, event: { type: 'admin.reconcile' }, source: 'admin', row });
    return expectAccepted(outcome, (o) => `Invalid snapshot: Snapshot ${row.id} status must be error or error_deleting to reconcile, but is ${o.status}.`);
  }

  /** Name and description: the fields a user edits, outside the machine. */
  updateFields(snapshotId: string, fields: { name?: string | null; description?: string | null }) {
    return this.engine.store.updateSnapshotFields(snapshotId, fields);
  }
}

function expectAccepted(outcome: Outcome, message: (o: Extract<Outcome, { kind: 'rejected' }>) => string) {
  if (outcome.kind === 'accepted') return outcome;
  if (outcome.kind === 'not_found') throw new NotFound(`Snapshot ${outcome.snapshotId} could not be found.`);
  if (outcome.kind === 'rejected') throw new InvalidRequest(message(outcome));
  throw new Error(`unexpected ${outcome.kind} outcome`);
}

/** Cinder's wording for a callback its status table forbids; null when the table allows it. */
export function callbackRefusal(current: string, requested: string): string | null {
  const allowed = callbackTransitions.get(current);
  if (!allowed) return `Snapshot status ${current} not allowed for update_snapshot_status`;
  if (!allowed.has(requested)) return `Provided snapshot status ${requested} not allowed for snapshot with status ${current}`;
  return null;
}
