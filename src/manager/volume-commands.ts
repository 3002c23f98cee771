// Volume commands: each request becomes an event of the volume's machine (machines/volume.ts),
// handed to the engine, which judges it against the row and the volume's snapshots in the
// transaction that stores it. Create and delete are asynchronous, as in Cinder: the request
// commits `creating` / `deleting` and the driver's work runs from the outbox.
import { randomUUID } from 'node:crypto';
import { volumeEffectOfPhase, volumeLockedInPhase, volumeStatusesAccepting } from '../../machines/volume-derive.js';
import { resettableVolumeStatuses, type AttachStatus, type VolumeEvent } from '../../machines/volume.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine, VolumeDelivery, VolumeOutcome } from '../engine/engine.js';
import { EXTEND_NEW_SIZE_KEY } from '../engine/outbox-worker.js';
import { InvalidRequest, NotFound } from './errors.js';
import { overQuota, type Quotas } from './quotas.js';
import { checkMetadataItems, type Limits } from './limits.js';
import type { Reads } from './reads.js';
import { DEFAULT_VOLUME_TYPE_ID } from '../engine/store/index.js';
import type { TypeViewer, VolumeTypes } from './volume-types.js';

export interface CreateVolumeInput {
  projectId: string;
  userId: string;
  /** GiB; may be left out when the volume has a source (it then takes the source's size). */
  size?: number | null;
  name?: string | null;
  description?: string | null;
  /** A type's name or id (null: the default type); only one the caller may see. */
  volumeType?: string | null;
  /** Who asks, for the type's visibility (default: the volume's project, not an admin). */
  viewer?: TypeViewer;
  /** The generic group the volume joins (microversion 3.13); the volume's type must be one of the group's. */
  groupId?: string | null;
  /**
   * The group is one being created from a source (group-commands.ts createGroupFromSource): it
   * takes members while `creating`, which no request of a user may add to.
   */
  joinCreatingGroup?: boolean;
  metadata?: Record<string, string>;
  /** Cinder's snapshot_id: the new volume holds the snapshot's data. */
  snapshotId?: string | null;
  /** Cinder's source_volid: the new volume holds a copy of that volume's data. */
  sourceVolid?: string | null;
  /**
   * Whether the caller may read a source owned by `projectId` (an admin may read any); a source
   * the caller may not see is not found, as Cinder's get_snapshot / get_volume under its context.
   */
  canSee?: (projectId: string) => boolean;
}

/** Statuses a source may be copied in (cinder/volume/flows/api/create_volume.py *_PROCEED_STATUS). */
const SNAPSHOT_SOURCE_STATUSES = ['available'] as const;
const VOLUME_SOURCE_STATUSES = ['available', 'in-use'] as const;

export interface AttachInput {
  instanceUuid?: string | null;
  hostName?: string | null;
  mountpoint: string;
  connectionInfo?: unknown;
}

/** Where the machine takes os-attach: only there is the driver asked for connection info. */
const ATTACHABLE_STATUSES: ReadonlySet<string> = new Set(volumeStatusesAccepting({ type: 'os-attach' }));

/** Cinder's refusal of a volume delete, word for word (cinder/volume/api.py delete). */
const DELETE_REFUSAL =
  'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer.';

export class VolumeCommands {
  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    private readonly reads: Reads,
    private readonly quotas: Quotas,
    private readonly types: VolumeTypes,
    private readonly limits: Limits,
  ) {}

  /**
   * Commits the volume in `creating`; the driver creates it from the outbox, blank or as a copy of
   * its source. The source is judged here with Cinder's messages, and held in that status by the
   * transaction that writes the volume (a delete of it then waits for the copy: volume-rules.ts).
   * The project's quota (per_volume_gigabytes, volumes, gigabytes) is judged in that same
   * transaction, so a size the driver cannot hold, or one unit too many, leaves nothing behind.
   */
  async create(input: CreateVolumeInput) {
    if (input.snapshotId && input.sourceVolid) {
      throw new InvalidRequest('Invalid input received: a volume is created from one source only: snapshot_id or source_volid, not both.');
    }
    checkMetadataItems(Object.keys(input.metadata ?? {}).length, this.limits);
    const from = await this.sourceOf(input);
    const size = input.size ?? from?.size;
    if (size === undefined || size === null) throw new InvalidRequest(`Invalid input received: Volume size 'None' must be an integer and greater than 0`);
    if (from && size < from.size) throw new InvalidRequest(from.tooSmall(size));
    const viewer = input.viewer ?? { projectId: input.projectId, isAdmin: false };
    // As Cinder: no type named, a copy takes its source's type, a blank volume the default one.
    const volumeTypeId = input.volumeType ? (await this.types.byNameOrId(input.volumeType, viewer)).id : (from?.volumeTypeId ?? DEFAULT_VOLUME_TYPE_ID);
    if (input.groupId) await this.checkGroupFor(input.groupId, input.projectId, volumeTypeId, input.volumeType ?? DEFAULT_VOLUME_TYPE_ID, input.joinCreatingGroup ?? false);
    const id = randomUUID();
    const started = await this.engine.volumes.start(
      {
        id,
        projectId: input.projectId,
        userId: input.userId,
        size,
        name: input.name ?? null,
        description: input.description ?? null,
        volumeTypeId,
        groupId: input.groupId ?? null,
        snapshotId: from?.source.kind === 'snapshot' ? from.source.id : null,
        sourceVolid: from?.source.kind === 'volume' ? from.source.id : null,
        ...(input.metadata ? { metadata: input.metadata } : {}),
      },
      'api',
      { quota: this.quotas.volumeDemand(input.projectId, size, volumeTypeId), ...(from ? { from: { source: from.source, statuses: from.statuses } } : {}) },
    );
    if (started.kind === 'over_quota') throw overQuota(started.refusal);
    if (started.kind === 'source_unavailable') {
      if (started.status === null) throw new NotFound(from!.notFound);
      throw new InvalidRequest(from!.wrongStatus);
    }
    return this.reads.volume(id);
  }

  /** A volume may join a group of its project that is available, with one of the group's volume types. */
  private async checkGroupFor(groupId: string, projectId: string, volumeTypeId: string, asked: string, creating: boolean) {
    const group = await this.engine.store.groups.findGroup(groupId);
    if (!group || group.deleted || group.projectId !== projectId) throw new NotFound(`Group ${groupId} could not be found.`);
    if (group.status !== (creating ? 'creating' : 'available')) throw new InvalidRequest(`Invalid Group: Group ${groupId} status must be available, but current status is: ${group.status}.`);
    if (!group.volumeTypes.some((t) => t.volumeTypeId === volumeTypeId)) {
      throw new InvalidRequest(`Invalid volume type: Invalid volume_type provided: ${asked} (requested type is not compatible with the group).`);
    }
  }

  /** The source named by a create, judged as Cinder's create flow judges it. */
  private async sourceOf(input: CreateVolumeInput) {
    const visible = (projectId: string) => input.canSee?.(projectId) ?? true;
    if (input.snapshotId) {
      const id = input.snapshotId;
      const notFound = `Snapshot ${id} could not be found.`;
      const snapshot = await this.reads.snapshot(id);
      if (!visible(snapshot.projectId)) throw new NotFound(notFound);
      const wrongStatus = `Invalid snapshot: Originating snapshot status must be one of '${SNAPSHOT_SOURCE_STATUSES.join(', ')}' values`;
      if (!(SNAPSHOT_SOURCE_STATUSES as readonly string[]).includes(snapshot.status)) throw new InvalidRequest(wrongStatus);
      return {
        source: { kind: 'snapshot' as const, id },
        statuses: SNAPSHOT_SOURCE_STATUSES,
        size: snapshot.volumeSize,
        volumeTypeId: (await this.engine.store.readVolume(snapshot.volumeId))?.volumeTypeId ?? null,
        notFound,
        wrongStatus,
        tooSmall: (size: number) =>
          `Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snapshot.volumeSize}GB. They must be >= original snapshot size.`,
      };
    }
    if (input.sourceVolid) {
      const id = input.sourceVolid;
      const notFound = `Volume ${id} could not be found.`;
      const volume = await this.reads.liveVolume(id);
      if (!visible(volume.projectId)) throw new NotFound(notFound);
      const wrongStatus = `Invalid volume: Originating source volume status must be one of '${VOLUME_SOURCE_STATUSES.join(', ')}' values`;
      if (!(VOLUME_SOURCE_STATUSES as readonly string[]).includes(volume.status)) throw new InvalidRequest(wrongStatus);
      return {
        source: { kind: 'volume' as const, id },
        statuses: VOLUME_SOURCE_STATUSES,
        size: volume.size,
        volumeTypeId: volume.volumeTypeId,
        notFound,
        wrongStatus,
        tooSmall: (size: number) =>
          `Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size  ${volume.size}GB. They must be >= original volume size.`,
      };
    }
    return undefined;
  }

  /**
   * os-extend: commits `extending` with the new size recorded for the driver (admin metadata
   * extend_new_size, as Cinder keeps it); the row's size changes when the driver is done. An
   * attached volume is refused with the NFS driver's words: this service does not tell compute
   * of the new size (Nova's volume-extended external event), so the guest would not see it.
   */
  async extend(volumeId: string, newSize: number) {
    const volume = await this.reads.liveVolume(volumeId);
    if (newSize <= volume.size) {
      throw new InvalidRequest(`Invalid input received: New size for extend must be greater than current size. (current: ${volume.size}, extended: ${newSize}).`);
    }
    if (volume.attachStatus === 'attached') throw new InvalidRequest(`Invalid volume: Cannot extend volume ${volumeId} while it is attached.`);
    const outcome = await this.engine.volumes.deliver({
      volumeId,
      event: { type: 'volume.extend', newSize },
      source: 'api',
      expectedVersion: volume.version,
      adminMetadata: { [EXTEND_NEW_SIZE_KEY]: String(newSize) },
      // The added gigabytes (and per_volume_gigabytes) are judged in the extend's own transaction.
      quota: this.quotas.extendDemand(volume.projectId, volume.size, newSize, volume.volumeTypeId),
    });
    if (outcome.kind === 'over_quota') throw overQuota(outcome.refusal);
    if (outcome.kind === 'conflict') throw new InvalidRequest(`Invalid volume: Volume ${volumeId} changed while the extend was requested; try again.`);
    return expectAccepted(outcome, (o) => `Invalid volume: Volume ${volumeId} status must be 'available' to extend, currently ${o.status}.`, 'extend');
  }

  /** One attach-flow action; refused with Cinder's message when the volume is not where it applies. */
  private async action(volumeId: string, event: VolumeDelivery['event'], verb: string, extra: Partial<VolumeDelivery> = {}) {
    const outcome = await this.engine.volumes.deliver({ volumeId, event, source: 'api', ...extra });
    return expectAccepted(outcome, (o) => wrongStatus(event, verb, o.status), verb);
  }

  reserve = (id: string) => this.action(id, { type: 'os-reserve' }, 'reserve');
  unreserve = (id: string) => this.action(id, { type: 'os-unreserve' }, 'unreserve');
  beginDetaching = (id: string) => this.action(id, { type: 'os-begin_detaching' }, 'begin detaching');
  rollDetaching = (id: string) => this.action(id, { type: 'os-roll_detaching' }, 'roll detaching');

  async initializeConnection(volumeId: string, connector: Record<string, unknown>) {
    const volume = await this.reads.liveVolume(volumeId);
    // A phase that asks the driver for work on the volume's file (creating it, deleting it): nothing to connect to yet.
    if (volumeEffectOfPhase(volume.phase) !== null) {
      throw new InvalidRequest(`Invalid volume: Volume ${volumeId} is ${volume.status}; a connection can be initialized once it is not.`);
    }
    if (!this.driver.initializeConnection) return { driver_volume_type: this.driver.name, data: { volume_id: volume.id } };
    return this.driver.initializeConnection(volume, connector);
  }

  /** os-attach: the attachment row and the move to in-use commit together; returns the attachment. */
  async attach(volumeId: string, attach: AttachInput) {
    const volume = await this.reads.liveVolume(volumeId);
    // The driver is asked for connection info only where the machine could take the attach: a
    // volume still being created has no file to connect to, and that is the caller's mistake
    // (the machine's 400, recorded in the history), not the driver's fault (500).
    const attachable = ATTACHABLE_STATUSES.has(volume.status);
    const connectionInfo =
      attach.connectionInfo ?? (attachable && this.driver.initializeConnection ? await this.driver.initializeConnection(volume, {}) : undefined);
    const outcome = await this.action(volumeId, { type: 'os-attach' }, 'attach', {
      attach: { instanceUuid: attach.instanceUuid ?? null, mountpoint: attach.mountpoint, connectionInfo },
    });
    const after = await this.reads.volume(volumeId);
    const attachment = after.attachments.find((a) => a.id === outcome.attachmentId);
    if (!attachment) throw new Error(`volume ${volumeId}: attachment ${outcome.attachmentId} not found after its commit`);
    return attachment;
  }

  async detach(volumeId: string, attachmentId?: string | null) {
    const volume = await this.reads.liveVolume(volumeId);
    if (volume.attachStatus !== 'attached') throw new InvalidRequest(`Invalid volume: Volume ${volumeId} is not attached.`);
    await this.action(volumeId, { type: 'os-detach' }, 'detach', { detach: { attachmentId: attachmentId ?? null } });
  }

  /**
   * os-retype without migration: one backend, so the type changes and nothing moves. Refused as
   * Cinder refuses it: a type the caller cannot see (404), the same type, a status other than
   * available or in-use, a change of encryption, a change of front-end QoS on a volume in use.
   * The checks read the row the retype is committed against (its version), so a volume that
   * moved on meanwhile is refused rather than retyped on stale grounds. The new type's quotas
   * (the volume and its snapshots moving there) are judged in the same transaction: 413 as Cinder.
   */
  async retype(volumeId: string, newType: string, viewer: TypeViewer) {
    const volume = await this.reads.liveVolume(volumeId);
    const target = await this.types.byNameOrId(newType, viewer);
    const current = volume.volumeTypeId ? await this.engine.store.volumeTypes.find(volume.volumeTypeId) : null;
    const frontEndQosChanges =
      volume.status === 'in-use' && (current?.qosSpecsId ?? null) !== target.qosSpecsId && (await this.hasFrontEndQos([current?.qosSpecsId, target.qosSpecsId]));
    // The status is the machine's to judge (a refusal there is recorded in the history).
    if (volume.volumeTypeId === target.id || frontEndQosChanges) throw new InvalidRequest(RETYPE_REFUSAL);
    const [fromEncryption, toEncryption] = await Promise.all([
      volume.volumeTypeId ? this.engine.store.volumeTypes.encryption(volume.volumeTypeId) : null,
      this.engine.store.volumeTypes.encryption(target.id),
    ]);
    if (!sameEncryption(fromEncryption, toEncryption)) throw new InvalidRequest('Invalid volume: Retype cannot change encryption requirements.');
    const outcome = await this.engine.volumes.deliver({
      volumeId,
      event: { type: 'os-retype' },
      source: 'api',
      expectedVersion: volume.version,
      volumeTypeId: target.id,
      quota: this.quotas.retypeDemand(volume, target.id),
    });
    if (outcome.kind === 'conflict') throw new InvalidRequest(RETYPE_REFUSAL);
    if (outcome.kind === 'over_quota') throw overQuota(outcome.refusal);
    return expectAccepted(outcome, () => RETYPE_REFUSAL, 'retype');
  }

  private async hasFrontEndQos(ids: (string | null | undefined)[]) {
    for (const id of ids) {
      if (!id) continue;
      const q = await this.engine.store.qosSpecs.find(id);
      if (q && (q.consumer === 'front-end' || q.consumer === 'both')) return true;
    }
    return false;
  }

  /** Name, description, bootable; the volume comes back with its live attachments, for rendering. */
  async update(volumeId: string, fields: { name?: string | null; description?: string | null; bootable?: boolean }) {
    const volume = await this.reads.liveVolume(volumeId);
    if (volumeLockedInPhase(volume.phase)) throw new InvalidRequest('Invalid volume: The volume cannot be updated during maintenance.');
    return this.engine.store.updateVolumeFields(volumeId, fields);
  }

  /**
   * os-update_readonly_flag: Cinder keeps the flag in the volume's admin metadata (`readonly`,
   * "True"/"False"), which its views show among the volume's metadata.
   */
  async updateReadonly(volumeId: string, readonly: boolean) {
    const volume = await this.reads.liveVolume(volumeId);
    // Cinder checks the status column, not an action of the machine: the flag is no lifecycle step.
    if (volume.status !== 'available') {
      throw new InvalidRequest(`Invalid volume: Volume ${volumeId} status must be available to update readonly flag, but current status is: ${volume.status}.`);
    }
    await this.engine.store.writeVolumeAdminMetadata(volumeId, { readonly: readonly ? 'True' : 'False' }, this.engine.clock());
  }

  /** Refuses a change of the owner's metadata where Cinder does (maintenance), with its message. */
  async assertMetadataWritable(volumeId: string, verb: 'Updating' | 'Deleting') {
    const volume = await this.reads.liveVolume(volumeId);
    if (volumeLockedInPhase(volume.phase)) {
      throw new InvalidRequest(`Invalid volume: ${verb} volume metadata is not allowed for volumes in ${volume.status} status.`);
    }
  }

  /** os-reset_status: status, attach_status, or both; only to a status the machine can rest in. */
  async resetStatus(volumeId: string, fields: { status?: string | null; attachStatus?: string | null }) {
    const event: VolumeEvent = {
      type: 'os-reset_status',
      ...(fields.status ? { status: fields.status } : {}),
      ...(fields.attachStatus ? { attachStatus: fields.attachStatus as AttachStatus } : {}),
    };
    const outcome = await this.engine.volumes.deliver({ volumeId, event, source: 'admin' });
    return expectAccepted(outcome, (o) =>
      `Invalid volume: cannot reset a volume in status ${o.status} to ${fields.status ?? o.status}; this service resets volumes to ${VOLUME_RESET_TARGETS}.`,
    );
  }

  /**
   * Commits the volume in `deleting` (the driver deletes it from the outbox). Refused, as Cinder
   * refuses it, from a status it does not delete from (unless forced) and while it has snapshots.
   */
  async delete(volumeId: string, force = false, cascade = false) {
    // A group's member is deleted with its group (cinder/volume/api.py expects group_id None).
    if ((await this.reads.liveVolume(volumeId)).groupId) throw new InvalidRequest(DELETE_REFUSAL);
    const event: VolumeEvent = force ? { type: 'os-force_delete' } : cascade ? { type: 'volume.delete', cascade: true } : { type: 'volume.delete' };
    const outcome = await this.engine.volumes.deliver({ volumeId, event, source: force ? 'admin' : 'api' });
    if (outcome.kind === 'refused' && outcome.failure.kind === 'no_snapshots') {
      throw new InvalidRequest(`Invalid volume: Volume ${volumeId} still has ${outcome.failure.snapshots.length} dependent snapshots.`);
    }
    if (outcome.kind === 'refused' && outcome.failure.kind === 'no_clones_in_progress') {
      throw new InvalidRequest(`Invalid volume: Volume ${volumeId} is the source of volumes being created: ${outcome.failure.snapshots.map((v) => v.id).join(', ')}.`);
    }
    if (outcome.kind === 'refused') throw new InvalidRequest(DELETE_REFUSAL);
    return expectAccepted(outcome, () => DELETE_REFUSAL, 'delete');
  }
}

/** Cinder's refusal of an action from a status the machine does not take it in. */
function wrongStatus(event: VolumeDelivery['event'], verb: string, status: string): string {
  // os-detach arrives without its count (the committer counts it); any count names the same statuses.
  const allowed = volumeStatusesAccepting(event.type === 'os-detach' ? { type: 'os-detach', remaining: 0 } : event);
  return `Invalid volume: Volume status must be ${allowed.join(' or ')} to ${verb}, but current status is: ${status}.`;
}

/** Cinder's refusal of a retype it cannot start (cinder/volume/api.py retype), word for word. */
const RETYPE_REFUSAL =
  'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.';

type EncryptionSpec = { provider: string; cipher: string | null; keySize: number | null; controlLocation: string } | null;

/** Whether two types encrypt alike (Cinder compares the encryption specs, ids aside). */
function sameEncryption(a: EncryptionSpec, b: EncryptionSpec): boolean {
  if (!a || !b) return a === b;
  return a.provider === b.provider && a.cipher === b.cipher && a.keySize === b.keySize && a.controlLocation === b.controlLocation;
}

const VOLUME_RESET_TARGETS = resettableVolumeStatuses.join(', ');

export function expectAccepted(outcome: VolumeOutcome, message: (o: Extract<VolumeOutcome, { kind: 'rejected' }>) => string, verb = 'change') {
  switch (outcome.kind) {
    case 'accepted':
      return outcome;
    case 'not_found':
      throw new NotFound(`Volume ${outcome.volumeId} could not be found.`);
    case 'attachment_not_found':
      throw new NotFound(`Attachment ${outcome.attachmentId} could not be found.`);
    case 'transfer_not_found':
      throw new NotFound(`Transfer ${outcome.transferId} could not be found.`);
    case 'rejected':
      throw new InvalidRequest(message(outcome));
    case 'refused':
      throw new InvalidRequest(`Invalid volume: Unable to ${verb} volume ${outcome.volumeId}: ${outcome.reason}.`);
    default:
      throw new Error(`unexpected ${outcome.kind} outcome`);
  }
}
