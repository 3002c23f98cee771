// The volume manager: what the API (and tests) call. It validates requests against the current
// rows, turns them into machine events and hands them to the engine; it never writes a snapshot's
// status itself.
import { randomUUID } from 'node:crypto';
import { callbackTransitions } from '../../machines/derive.js';
import type { ComputeSnapshotStatus, ResettableStatus } from '../../machines/snapshot.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import type { Outcome } from '../engine/types.js';
import type { SnapshotRow } from '../engine/store/index.js';
import { InvalidRequest, NotFound } from './errors.js';

/** A snapshot by id, or the row the caller already read. */
export type SnapshotRef = string | SnapshotRow;

export interface CreateVolumeInput {
  projectId: string;
  userId: string;
  size: number;
  name?: string | null;
  description?: string | null;
}

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

export class VolumeManager {
  constructor(
    readonly engine: Engine,
    readonly driver: VolumeDriver,
  ) {}

  private get prisma() {
    return this.engine.db.prisma;
  }

  async createVolume(input: CreateVolumeInput) {
    const id = randomUUID();
    const now = this.engine.clock();
    const volume = await this.prisma.volume.create({
      data: {
        id,
        projectId: input.projectId,
        userId: input.userId,
        size: input.size,
        name: input.name ?? null,
        description: input.description ?? null,
        status: 'creating',
        createdAt: now,
      },
    });
    try {
      const result = await this.driver.createVolume({ ...volume });
      return await this.prisma.volume.update({
        where: { id },
        data: { status: 'available', providerLocation: result.providerLocation ?? null },
      });
    } catch (err) {
      await this.prisma.volume.update({ where: { id }, data: { status: 'error' } });
      throw err;
    }
  }

  /**
   * Volume status changes of the attach flow (the legacy one Nova uses). Each is a conditional
   * update on the status it starts from, so two racing requests cannot both succeed.
   */
  private async moveVolume(volumeId: string, from: readonly string[], to: Record<string, unknown>, action: string) {
    const moved = await this.prisma.volume.updateMany({ where: { id: volumeId, deleted: false, status: { in: [...from] } }, data: to });
    if (moved.count === 1) return;
    const volume = await this.requireVolume(volumeId);
    throw new InvalidRequest(`Invalid volume: Volume status must be ${from.join(' or ')} to ${action}, but current status is: ${volume.status}.`);
  }

  reserveVolume = (id: string) => this.moveVolume(id, ['available'], { status: 'attaching' }, 'reserve');
  unreserveVolume = (id: string) => this.moveVolume(id, ['attaching'], { status: 'available' }, 'unreserve');
  beginDetaching = (id: string) => this.moveVolume(id, ['in-use'], { status: 'detaching' }, 'begin detaching');
  rollDetaching = (id: string) => this.moveVolume(id, ['detaching'], { status: 'in-use' }, 'roll detaching');

  async initializeConnection(volumeId: string, connector: Record<string, unknown>) {
    const volume = await this.requireVolume(volumeId);
    if (!this.driver.initializeConnection) return { driver_volume_type: this.driver.name, data: { volume_id: volume.id } };
    return this.driver.initializeConnection(volume, connector);
  }

  async attachVolume(volumeId: string, attach: { instanceUuid?: string | null; hostName?: string | null; mountpoint: string; connectionInfo?: unknown }) {
    const volume = await this.requireVolume(volumeId);
    if (!['available', 'attaching'].includes(volume.status)) {
      throw new InvalidRequest(`Invalid volume: Volume status must be available or attaching to attach, but current status is: ${volume.status}.`);
    }
    const connectionInfo =
      attach.connectionInfo ?? (this.driver.initializeConnection ? await this.driver.initializeConnection(volume, {}) : undefined);
    const now = this.engine.clock();
    return this.prisma.$transaction(async (tx) => {
      const attachment = await tx.volumeAttachment.create({
        data: {
          id: randomUUID(),
          volumeId,
          instanceUuid: attach.instanceUuid ?? null,
          mountpoint: attach.mountpoint,
          attachStatus: 'attached',
          connectionInfo: connectionInfo === undefined ? null : JSON.stringify(connectionInfo),
          attachTime: now,
          createdAt: now,
        },
      });
      await tx.volume.update({ where: { id: volumeId }, data: { status: 'in-use', attachStatus: 'attached' } });
      return attachment;
    });
  }

  async detachVolume(volumeId: string, attachmentId?: string | null) {
    const volume = await this.requireVolume(volumeId);
    if (volume.attachStatus !== 'attached') throw new InvalidRequest(`Invalid volume: Volume ${volumeId} is not attached.`);
    const now = this.engine.clock();
    await this.prisma.$transaction(async (tx) => {
      const closed = await tx.volumeAttachment.updateMany({
        where: { volumeId, deleted: false, ...(attachmentId ? { id: attachmentId } : {}) },
        data: { attachStatus: 'detached', detachTime: now, deleted: true, deletedAt: now },
      });
      if (attachmentId && closed.count === 0) throw new NotFound(`Attachment ${attachmentId} could not be found.`);
      const left = await tx.volumeAttachment.count({ where: { volumeId, deleted: false } });
      if (left === 0) await tx.volume.update({ where: { id: volumeId }, data: { status: 'available', attachStatus: 'detached' } });
    });
  }

  async updateVolume(volumeId: string, fields: { name?: string | null; description?: string | null }) {
    await this.requireVolume(volumeId);
    return this.prisma.volume.update({ where: { id: volumeId }, data: fields, include: { attachments: { where: { deleted: false } } } });
  }

  async resetVolumeStatus(volumeId: string, fields: { status?: string | null; attachStatus?: string | null }) {
    await this.requireVolume(volumeId);
    await this.prisma.volume.update({
      where: { id: volumeId },
      data: { ...(fields.status ? { status: fields.status } : {}), ...(fields.attachStatus ? { attachStatus: fields.attachStatus } : {}) },
    });
  }

  /** Cinder refuses to delete a volume that is attached or still has snapshots. */
  async deleteVolume(volumeId: string, force = false) {
    const volume = await this.requireVolume(volumeId);
    if (!force && !['available', 'error', 'error_restoring', 'error_extending', 'error_managing'].includes(volume.status)) {
      throw new InvalidRequest(`Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer.`);
    }
    // Status change and snapshot count in one transaction, serialised with snapshot creation
    // (which holds the volume row the same way), so no snapshot can appear after the count.
    await this.prisma.$transaction(async (tx) => {
      const moved = await tx.volume.updateMany({ where: { id: volumeId, deleted: false, status: volume.status }, data: { status: 'deleting' } });
      if (moved.count !== 1) throw new InvalidRequest(`Invalid volume: Volume ${volumeId} changed status while it was being deleted; try again.`);
      const snapshots = await tx.snapshot.count({ where: { volumeId, deleted: false } });
      if (snapshots > 0) throw new InvalidRequest(`Invalid volume: Volume ${volumeId} still has ${snapshots} dependent snapshots.`);
    });
    try {
      await this.driver.deleteVolume(volume);
    } catch (err) {
      await this.prisma.volume.update({ where: { id: volumeId }, data: { status: 'error_deleting' } });
      throw err;
    }
    const now = this.engine.clock();
    await this.prisma.volume.update({ where: { id: volumeId }, data: { status: 'deleted', deleted: true, deletedAt: now } });
  }

  async getVolume(volumeId: string) {
    const volume = await this.prisma.volume.findUnique({ where: { id: volumeId }, include: { attachments: { where: { deleted: false } } } });
    if (!volume || volume.deleted) throw new NotFound(`Volume ${volumeId} could not be found.`);
    return volume;
  }

  /** Assisted when the driver can do it and a running instance holds the volume open. */
  private assistedFor(volume: { attachStatus: string }) {
    return this.driver.supportsAssistedSnapshots && volume.attachStatus === 'attached';
  }

  async createSnapshot(input: CreateSnapshotInput) {
    const volume = await this.requireVolume(input.volumeId);
    const usable = volume.status === 'available' || (volume.status === 'in-use' && input.force === true);
    if (!usable) {
      throw new InvalidRequest(
        volume.status === 'in-use'
          ? `Invalid volume: Volume ${volume.id} is in-use; snapshot it with force=true.`
          : `Invalid volume: Volume ${volume.id} status must be available or in-use, but is ${volume.status}.`,
      );
    }
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
      { type: 'snapshot.create', assisted: this.assistedFor(volume) },
      'api',
      // The row is written only while the volume is still in the status judged here; a volume
      // delete holds the volume row the same way, so the two cannot interleave into a snapshot
      // of a deleted volume.
      { volumeId: volume.id, status: volume.status },
    );
    if (outcome.kind === 'refused') {
      throw new InvalidRequest(`Invalid volume: Volume ${volume.id} changed status while the snapshot was requested; try again.`);
    }
    if (outcome.kind !== 'accepted') throw new Error(`unexpected ${outcome.kind} for a create`);
    return outcome.row!;
  }

  /** The row a command acts on: the one the caller already read (read once), or read now. */
  private async rowOf(snapshot: SnapshotRef): Promise<SnapshotRow> {
    return typeof snapshot === 'string' ? this.getSnapshot(snapshot) : snapshot;
  }

  async deleteSnapshot(snapshot: SnapshotRef) {
    const row = await this.rowOf(snapshot);
    const volume = await this.requireVolume(row.volumeId);
    const outcome = await this.engine.deliver({
      snapshotId: row.id,
      event: { type: 'snapshot.delete', assisted: this.assistedFor(volume) },
      source: 'api',
      row,
    });
    return this.expectAccepted(outcome, (o) =>
      `Invalid snapshot: Snapshot ${row.id} status must be available, error or error_deleting to delete, but is ${o.status}.`,
    );
  }

  /**
   * Compute's callback. Every callback reaches the machine, so a refused one is in the history
   * too; a refusal is explained with Cinder's own messages when Cinder's table (derived from the
   * machine) forbids it, and with the machine's reason when only the current phase does. The
   * compute fields become admin metadata in the same commit as the transition.
   */
  async updateSnapshotStatus(snapshot: SnapshotRef, update: SnapshotStatusUpdate) {
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
    return this.expectAccepted(outcome, (o) => callbackRefusal(o.status, update.status) ?? `Invalid snapshot: ${o.reason}.`);
  }

  async resetSnapshotStatus(snapshot: SnapshotRef, status: ResettableStatus) {
    const row = await this.rowOf(snapshot);
    const outcome = await this.engine.deliver({ snapshotId: row.id, event: { type: 'admin.reset_status', status }, source: 'admin', row });
    return this.expectAccepted(outcome, (o) => `Invalid snapshot: cannot reset a snapshot that is ${o.status}.`);
  }

  async forceDeleteSnapshot(snapshot: SnapshotRef) {
    const row = await this.rowOf(snapshot);
    const volume = await this.requireVolume(row.volumeId);
    const outcome = await this.engine.deliver({
      snapshotId: row.id,
      event: { type: 'admin.force_delete', assisted: this.assistedFor(volume) },
      source: 'admin',
      row,
    });
    return this.expectAccepted(outcome, (o) => `Invalid snapshot: cannot force-delete a snapshot that is ${o.status}.`);
  }

  async getSnapshot(snapshotId: string): Promise<SnapshotRow> {
    const snapshot = await this.engine.store.findSnapshot(snapshotId);
    if (!snapshot || snapshot.deleted) throw new NotFound(`Snapshot ${snapshotId} could not be found.`);
    return snapshot;
  }

  /** Name and description: the fields a user edits, outside the machine. */
  updateSnapshotFields(snapshotId: string, fields: { name?: string | null; description?: string | null }) {
    return this.engine.store.updateSnapshotFields(snapshotId, fields);
  }

  transitions(snapshotId: string) {
    return this.engine.store.readHistory(snapshotId);
  }

  /** Who owns a snapshot, deleted or not (null: it never existed). */
  snapshotOwner(snapshotId: string) {
    return this.engine.store.snapshotOwner(snapshotId);
  }

  /** A snapshot's user metadata, for rendering it. */
  metadata(snapshotId: string): Promise<Record<string, string>> {
    return this.engine.store.readMetadata(snapshotId);
  }

  adminMetadata(snapshotId: string): Promise<Record<string, string>> {
    return this.engine.store.readAdminMetadata(snapshotId);
  }

  private async requireVolume(volumeId: string) {
    const volume = await this.engine.store.findVolume(volumeId);
    if (!volume || volume.deleted) throw new NotFound(`Volume ${volumeId} could not be found.`);
    return volume;
  }

  private expectAccepted(outcome: Outcome, message: (o: Extract<Outcome, { kind: 'rejected' }>) => string) {
    if (outcome.kind === 'accepted') return outcome;
    if (outcome.kind === 'not_found') throw new NotFound(`Snapshot ${outcome.snapshotId} could not be found.`);
    if (outcome.kind === 'rejected') throw new InvalidRequest(message(outcome));
    throw new Error(`unexpected ${outcome.kind} outcome`);
  }
}

/** Cinder's wording for a callback its status table forbids; null when the table allows it. */
export function callbackRefusal(current: string, requested: string): string | null {
  const allowed = callbackTransitions.get(current);
  if (!allowed) return `Snapshot status ${current} not allowed for update_snapshot_status`;
  if (!allowed.has(requested)) return `Provided snapshot status ${requested} not allowed for snapshot with status ${current}`;
  return null;
}
