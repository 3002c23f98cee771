// Volume commands: create and delete through the driver, the user's fields, an admin's reset, and
// the legacy attach flow Nova uses. Volumes are not machines: each command is judged against
// the row it reads, and the moves that can race are guarded in the store.
import { randomUUID } from 'node:crypto';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import { InvalidRequest, NotFound } from './errors.js';
import { checkVolumeSize, type Limits } from './limits.js';
import type { Reads } from './reads.js';

export interface CreateVolumeInput {
  projectId: string;
  userId: string;
  size: number;
  name?: string | null;
  description?: string | null;
}

export interface AttachInput {
  instanceUuid?: string | null;
  hostName?: string | null;
  mountpoint: string;
  connectionInfo?: unknown;
}

/** The statuses Cinder deletes a volume from without force. */
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

export class VolumeCommands {
  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    private readonly reads: Reads,
    private readonly limits: Limits,
  ) {}

  private get store() {
    return this.engine.store;
  }

  async create(input: CreateVolumeInput) {
    // Before the row: a size the driver cannot hold must not leave a volume in error.
    checkVolumeSize(input.size, this.limits);
    const id = randomUUID();
    const volume = await this.store.insertVolume({
      id,
      projectId: input.projectId,
      userId: input.userId,
      size: input.size,
      name: input.name ?? null,
      description: input.description ?? null,
      status: 'creating',
      createdAt: this.engine.clock(),
    });
    try {
      const result = await this.driver.createVolume({ ...volume });
      return await this.store.updateVolume(id, { status: 'available', providerLocation: result.providerLocation ?? null });
    } catch (err) {
      await this.store.updateVolume(id, { status: 'error' });
      throw err;
    }
  }

  /** One guarded status move of the attach flow; refused with Cinder's message when it does not apply. */
  private async move(volumeId: string, from: readonly string[], to: string, action: string) {
    if (await this.store.moveVolumeStatus(volumeId, from, to)) return;
    const volume = await this.reads.liveVolume(volumeId);
    throw new InvalidRequest(`Invalid volume: Volume status must be ${from.join(' or ')} to ${action}, but current status is: ${volume.status}.`);
  }

  reserve = (id: string) => this.move(id, ['available'], 'attaching', 'reserve');
  unreserve = (id: string) => this.move(id, ['attaching'], 'available', 'unreserve');
  beginDetaching = (id: string) => this.move(id, ['in-use'], 'detaching', 'begin detaching');
  rollDetaching = (id: string) => this.move(id, ['detaching'], 'in-use', 'roll detaching');

  async initializeConnection(volumeId: string, connector: Record<string, unknown>) {
    const volume = await this.reads.liveVolume(volumeId);
    if (!this.driver.initializeConnection) return { driver_volume_type: this.driver.name, data: { volume_id: volume.id } };
    return this.driver.initializeConnection(volume, connector);
  }

  async attach(volumeId: string, attach: AttachInput) {
    const volume = await this.reads.liveVolume(volumeId);
    if (!['available', 'attaching'].includes(volume.status)) {
      throw new InvalidRequest(`Invalid volume: Volume status must be available or attaching to attach, but current status is: ${volume.status}.`);
    }
    const connectionInfo =
      attach.connectionInfo ?? (this.driver.initializeConnection ? await this.driver.initializeConnection(volume, {}) : undefined);
    return this.store.attachVolume(
      { volumeId, instanceUuid: attach.instanceUuid ?? null, mountpoint: attach.mountpoint, connectionInfo },
      this.engine.clock(),
    );
  }

  async detach(volumeId: string, attachmentId?: string | null) {
    const volume = await this.reads.liveVolume(volumeId);
    if (volume.attachStatus !== 'attached') throw new InvalidRequest(`Invalid volume: Volume ${volumeId} is not attached.`);
    const detached = await this.store.detachVolume(volumeId, attachmentId ?? null, this.engine.clock());
    if (!detached) throw new NotFound(`Attachment ${attachmentId} could not be found.`);
  }

  /** Name and description; the volume comes back with its live attachments, for rendering. */
  async update(volumeId: string, fields: { name?: string | null; description?: string | null }) {
    await this.reads.liveVolume(volumeId);
    return this.store.updateVolume(volumeId, fields);
  }

  async resetStatus(volumeId: string, fields: { status?: string | null; attachStatus?: string | null }) {
    await this.reads.liveVolume(volumeId);
    await this.store.updateVolume(volumeId, {
      ...(fields.status ? { status: fields.status } : {}),
      ...(fields.attachStatus ? { attachStatus: fields.attachStatus } : {}),
    });
  }

  /** Cinder refuses to delete a volume that is attached or still has snapshots. */
  async delete(volumeId: string, force = false) {
    const volume = await this.reads.liveVolume(volumeId);
    if (!force && !DELETABLE.includes(volume.status)) {
      throw new InvalidRequest(`Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer.`);
    }
    const start = await this.store.beginVolumeDelete(volumeId, volume.status);
    if (start.kind === 'moved') throw new InvalidRequest(`Invalid volume: Volume ${volumeId} changed status while it was being deleted; try again.`);
    if (start.kind === 'has_snapshots') throw new InvalidRequest(`Invalid volume: Volume ${volumeId} still has ${start.count} dependent snapshots.`);
    try {
      await this.driver.deleteVolume(volume);
    } catch (err) {
      await this.store.updateVolume(volumeId, { status: 'error_deleting' });
      throw err;
    }
    await this.store.updateVolume(volumeId, { status: 'deleted', deleted: true, deletedAt: this.engine.clock() });
  }
}
