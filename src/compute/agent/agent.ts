/**
 * The compute side's behaviour, independent of HTTP: the attach bookkeeping Nova keeps in its
 * block_device_mapping table, and the asynchronous snapshot operations its compute manager runs
 * after the API has answered. Requests are validated synchronously (so refusals are 400s, as in
 * Nova's API), the live part runs in the background, and its outcome reaches the storage service
 * only through the os-update_snapshot_status callback.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CreateInfo, DeleteInfo } from '../../contracts/nova.js';
import { ApiFault, badRequest, notFound } from '../../http/faults/index.js';
import type { CallbackSender } from './callbacks.js';
import { KeyedLock } from '../../share-fs/index.js';
import type { Hypervisor } from './hypervisor.js';
import { LivePartError, planDelete } from './live.js';
import type { AgentState } from './state.js';
import { statusUpdate } from './status-report.js';
import { StorageHttpError, type StorageClient } from './storage-client.js';
import type { AgentFaults, OperationOutcome, SnapshotOperation, VolumeAttachmentRecord } from './types.js';

export interface ComputeAgentDeps {
  state: AgentState;
  storage: StorageClient;
  callbacks: CallbackSender;
  shareDir: string;
  legacy: boolean;
  faults: AgentFaults;
  logger: Logger;
  /** What holds the instances' disks open and runs the live part: the files alone, or a real QEMU. */
  hypervisor: Hypervisor;
  /** os-brick connector sent with os-initialize_connection / os-terminate_connection. */
  connector?: Record<string, unknown>;
}

const DEVICE_LETTERS = 'bcdefghijklmnopqrstuvwxyz';

function defaultConnector(): Record<string, unknown> {
  return { host: os.hostname(), ip: '127.0.0.1', platform: process.arch, os_type: process.platform, multipath: false };
}

/** Nova surfaces Cinder's refusals of an attach step as 400 (404 when the volume is unknown). */
function storageFault(err: unknown, volumeId: string): ApiFault {
  if (err instanceof StorageHttpError) {
    if (err.status === 404) return notFound(`Volume ${volumeId} could not be found.`);
    if (err.status >= 400 && err.status < 500) return badRequest(`Invalid volume: ${err.faultText}`);
    return new ApiFault(500, `The storage service failed: ${err.message}`);
  }
  if (err instanceof ApiFault) return err;
  return new ApiFault(500, `The storage service could not be reached: ${err instanceof Error ? err.message : String(err)}`);
}

export class ComputeAgent {
  private readonly locks = new KeyedLock();
  private readonly background = new Set<Promise<void>>();
  private readonly connector: Record<string, unknown>;

  constructor(private readonly deps: ComputeAgentDeps) {
    this.connector = deps.connector ?? defaultConnector();
  }

  /**
   * Which file the instance holding `volumeId` has open (null when none holds it): the status
   * extension the storage side reads when it reconciles a snapshot whose callback never came.
   * Read only; a multi-attached volume reports the first holder, as the assisted API refuses those.
   * In QEMU mode the answer is QEMU's; if QEMU cannot be asked, the agent's record.
   */
  async activeFileOf(volumeId: string): Promise<{ instanceId: string | null; activeFile: string | null }> {
    const [found] = this.deps.state.findVolume(volumeId);
    if (!found) return { instanceId: null, activeFile: null };
    const activeFile = await this.deps.hypervisor.activeFile(found.instanceId, found.attachment).catch((err: unknown) => {
      this.deps.logger.warn({ volumeId, err: err instanceof Error ? err.message : String(err) }, 'could not ask the hypervisor; reporting the record');
      return found.attachment.activeFile;
    });
    return { instanceId: found.instanceId, activeFile };
  }

  /** The guest pause extension's resume: the instance holding the volume, if the agent paused it. */
  async resumeGuest(volumeId: string): Promise<{ instanceId: string | null; resumed: boolean }> {
    const [found] = this.deps.state.findVolume(volumeId);
    if (!found) return { instanceId: null, resumed: false };
    const resumed = await this.deps.hypervisor.resumeGuest(found.instanceId);
    if (resumed) this.deps.logger.warn({ volumeId, instanceId: found.instanceId }, 'the storage side closed the pause window: guest resumed');
    return { instanceId: found.instanceId, resumed };
  }

  get hypervisor(): Hypervisor {
    return this.deps.hypervisor;
  }

  /** Agent start: find (or reopen) what the state file says is attached. */
  async resume(): Promise<void> {
    await this.deps.hypervisor.resume(this.deps.state.all());
  }

  listAttachments(instanceId: string): VolumeAttachmentRecord[] {
    return this.deps.state.list(instanceId);
  }

  /** Nova's legacy attach: reserve, initialize_connection, "plug" the file, attach. */
  async attachVolume(instanceId: string, volumeId: string, device?: string | null): Promise<VolumeAttachmentRecord> {
    return this.locks.run(volumeId, async () => {
      const { state, storage } = this.deps;
      if (state.get(instanceId, volumeId)) throw badRequest(`Invalid volume: volume ${volumeId} already attached`);
      const mountpoint = device ?? this.nextDevice(instanceId);
      if (state.list(instanceId).some((a) => a.device === mountpoint)) {
        throw badRequest(`The supplied device path (${mountpoint}) is in use.`);
      }

      try {
        await storage.volumeAction(volumeId, 'os-reserve', null);
      } catch (err) {
        throw storageFault(err, volumeId);
      }
      let connectionInfo: Record<string, unknown> | undefined;
      try {
        const answer = (await storage.volumeAction(volumeId, 'os-initialize_connection', { connector: this.connector })) as
          | { connection_info?: Record<string, unknown> }
          | undefined;
        connectionInfo = answer?.connection_info;
        const data = connectionInfo?.data as Record<string, unknown> | undefined;
        if (!connectionInfo || typeof data?.name !== 'string' || !data.name) {
          throw badRequest('Invalid volume: the storage service returned no connection_info data.name');
        }
        // The hypervisor would fail to open a missing disk; refusing here keeps the record honest.
        const file = path.resolve(this.deps.shareDir, data.name);
        if (!(await stat(file).catch(() => undefined))?.isFile()) {
          throw badRequest(`Invalid volume: volume file ${data.name} is not in the share`);
        }
        const record: VolumeAttachmentRecord = {
          volumeId,
          device: mountpoint,
          activeFile: data.name,
          format: typeof data.format === 'string' ? data.format : 'raw',
          connectionInfo,
        };
        try {
          await this.deps.hypervisor.plug(instanceId, record);
        } catch (err) {
          throw badRequest(`Invalid volume: the instance could not open ${data.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
        try {
          await storage.volumeAction(volumeId, 'os-attach', { instance_uuid: instanceId, mountpoint, mode: 'rw' });
        } catch (err) {
          await this.deps.hypervisor.unplug(instanceId, record).catch(() => undefined);
          throw err;
        }
        await state.attach(instanceId, record);
        this.deps.logger.info({ instanceId, volumeId, device: mountpoint, activeFile: data.name }, 'volume attached');
        return record;
      } catch (err) {
        await this.undoAttach(volumeId, connectionInfo !== undefined);
        throw storageFault(err, volumeId);
      }
    });
  }

  private async undoAttach(volumeId: string, connected: boolean): Promise<void> {
    const { storage, logger } = this.deps;
    const steps: [string, unknown][] = connected
      ? [['os-terminate_connection', { connector: this.connector }], ['os-unreserve', null]]
      : [['os-unreserve', null]];
    for (const [action, args] of steps) {
      await storage.volumeAction(volumeId, action, args).catch((err: unknown) => {
        logger.warn({ volumeId, action, err: err instanceof Error ? err.message : String(err) }, 'attach rollback step failed');
      });
    }
  }

  /** Nova's legacy detach: begin_detaching, terminate_connection, detach; roll_detaching on failure. */
  async detachVolume(instanceId: string, volumeId: string): Promise<void> {
    await this.locks.run(volumeId, async () => {
      const { state, storage } = this.deps;
      const record = state.get(instanceId, volumeId);
      if (!record) throw notFound(`volume_id not found: ${volumeId}`);
      try {
        await storage.volumeAction(volumeId, 'os-begin_detaching', null);
      } catch (err) {
        throw storageFault(err, volumeId);
      }
      // As Nova: the guest lets go of the disk before the storage side is told it is detached.
      await this.deps.hypervisor.unplug(instanceId, record);
      try {
        await storage.volumeAction(volumeId, 'os-terminate_connection', { connector: this.connector });
        await storage.volumeAction(volumeId, 'os-detach', { attachment_id: null });
      } catch (err) {
        await storage.volumeAction(volumeId, 'os-roll_detaching', null).catch(() => undefined);
        throw storageFault(err, volumeId);
      }
      await state.detach(instanceId, volumeId);
      this.deps.logger.info({ instanceId, volumeId }, 'volume detached');
    });
  }

  /** The synchronous half of POST os-assisted-volume-snapshots. */
  acceptCreate(volumeId: string, createInfo: CreateInfo): { instanceId: string } {
    this.refuseIfInjected();
    const instanceId = this.instanceFor(volumeId);
    const op: SnapshotOperation = { kind: 'create', snapshotId: createInfo.snapshot_id, volumeId, instanceId };
    this.spawn(op, () => this.runCreate(op, createInfo));
    return { instanceId };
  }

  /** The synchronous half of DELETE os-assisted-volume-snapshots/{id}. */
  acceptDelete(snapshotId: string, deleteInfo: DeleteInfo): void {
    this.refuseIfInjected();
    const instanceId = this.instanceFor(deleteInfo.volume_id);
    const op: SnapshotOperation = { kind: 'delete', snapshotId, volumeId: deleteInfo.volume_id, instanceId };
    this.spawn(op, () => this.runDelete(op, deleteInfo));
  }

  /** Resolves once every accepted operation has finished, callbacks included. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private refuseIfInjected(): void {
    if (this.deps.faults.refuseRequests) throw badRequest('The compute service refused the request (fault injection).');
  }

  /** nova.compute.api._get_bdm_by_volume_id and BlockDeviceMapping.get_by_volume. */
  private instanceFor(volumeId: string): string {
    const found = this.deps.state.findVolume(volumeId);
    if (found.length === 0) throw badRequest(`No volume Block Device Mapping with id ${volumeId}.`);
    if (found.length > 1) {
      throw badRequest(`Block Device Mapping ${volumeId} is a multi-attach volume and is not valid for this operation.`);
    }
    return found[0]!.instanceId;
  }

  private nextDevice(instanceId: string): string {
    const used = new Set(this.deps.state.list(instanceId).map((a) => a.device));
    for (const letter of DEVICE_LETTERS) {
      if (!used.has(`/dev/vd${letter}`)) return `/dev/vd${letter}`;
    }
    throw badRequest('No free disk device names for prefix vd');
  }

  private spawn(op: SnapshotOperation, work: () => Promise<OperationOutcome>): void {
    const task = (async () => {
      const outcome = await this.locks.run(op.volumeId, async () => {
        const earlier = this.deps.state.outcome(op.kind, op.snapshotId);
        // A repeated request (Cinder or its client retrying after a timeout) must not run the block
        // job twice: the second run would find the chain already changed and report a false error.
        if (earlier) {
          this.deps.logger.info({ ...op, ok: earlier.ok }, 'repeated snapshot request; reporting the earlier outcome');
          return earlier;
        }
        let result: OperationOutcome;
        try {
          result = await work();
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.deps.logger.error({ ...op, err: message }, `error during volume_snapshot_${op.kind}`);
          result = { ok: false, error: message };
        }
        await this.deps.state.recordOutcome(op.kind, op.snapshotId, result);
        return result;
      });
      await this.report(op, outcome.ok);
    })().catch((err: unknown) => {
      this.deps.logger.error({ ...op, err: err instanceof Error ? err.message : String(err) }, 'snapshot operation failed');
    });
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  private async livePrologue(op: SnapshotOperation): Promise<VolumeAttachmentRecord> {
    const { faults } = this.deps;
    if (faults.beforeLivePart) await faults.beforeLivePart(op);
    const attachment = this.deps.state.get(op.instanceId, op.volumeId);
    if (!attachment) throw new LivePartError(`Disk with id '${op.volumeId}' not found attached to instance.`);
    const fail = typeof faults.failLivePart === 'function' ? faults.failLivePart(op) : faults.failLivePart;
    if (fail) throw new LivePartError('the live part failed (fault injection)');
    return attachment;
  }

  private async runCreate(op: SnapshotOperation, createInfo: CreateInfo): Promise<OperationOutcome> {
    const attachment = await this.livePrologue(op);
    const pause = createInfo.pause_guest === undefined ? {} : { pauseGuest: createInfo.pause_guest };
    const newActive = await this.deps.hypervisor.snapshotCreate(op.instanceId, attachment, createInfo.new_file, pause);
    await this.deps.state.setActiveFile(op.instanceId, op.volumeId, newActive);
    this.deps.logger.info({ ...op, from: attachment.activeFile, to: newActive }, 'switched the active file');
    return { ok: true, newFile: newActive };
  }

  private async runDelete(op: SnapshotOperation, deleteInfo: DeleteInfo): Promise<OperationOutcome> {
    const attachment = await this.livePrologue(op);
    const plan = planDelete(deleteInfo);
    const active = await this.deps.hypervisor.snapshotDelete(op.instanceId, attachment, plan);
    if (active !== attachment.activeFile) await this.deps.state.setActiveFile(op.instanceId, op.volumeId, active);
    this.deps.logger.info({ ...op, plan, active }, 'merged the snapshot');
    return { ok: true };
  }

  private async report(op: SnapshotOperation, ok: boolean): Promise<void> {
    if (this.deps.faults.neverCallBack) {
      this.deps.logger.warn({ ...op, ok }, 'not calling the storage service back (fault injection)');
      return;
    }
    await this.deps.callbacks.send(op.snapshotId, statusUpdate(op.kind, ok, this.deps.legacy));
  }
}
