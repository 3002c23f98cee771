// The RemoteFS qcow2 driver: each volume is a qcow2 chain of files in one shared directory, with
// volume-<id>.info naming the active file and each snapshot's file (see
// shared/reference/assisted-snapshots.md §2). Detached volumes are snapshotted here with
// qemu-img; attached ones in two phases around compute, which alone touches files a VM has open.
//
// Every phase runs under the volume's lock and may run again after a crash at any point, so each
// step either checks whether it already happened or is harmless to repeat, and the order of
// steps keeps every intermediate state recognisable: chain changes first, then .info, then file
// removal.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  CREATE_INFO_KEY,
  DELETE_INFO_KEY,
  type ConnectionInfo,
  type PhaseResult,
  type SnapshotRef,
  type VolumeDriver,
  type VolumeRef,
} from '../driver.js';
import { fsyncDir, idsOf, InfoStore, isReferenced, type SnapInfo } from './info-store.js';
import {
  belongsToVolume,
  isChainFileName,
  lockFile,
  RETIRED_SUFFIX,
  snapshotFile,
  TEMP_MARKER,
  volumeFile,
} from './layout.js';
import { mergeOutstanding, NothingToMergeError, planOnlineDelete, type ChainLink, type DeletePlan } from './merge-plan.js';
import { backingChain, commitIntoBacking, createImage, createOverlay, imageInfo, rebaseUnsafe } from '../../qemu/qemu-img.js';
import { FileVolumeLocks, type FileLockOptions, type VolumeLocks } from './volume-lock.js';

/**
 * Snapshot admin metadata key holding the whole delete plan: after compute has merged, the chain
 * no longer shows which file left it, and delete_info alone does not say (for a pull it names the
 * new base, not the file to remove).
 */
export const DELETE_PLAN_KEY = 'remotefs_delete_plan';

const GiB = 1024 ** 3;

export interface RemoteFsDriverOptions {
  /** The directory holding the volume files (the mounted share). */
  shareDir: string;
  /** What compute mounts (`host:/export`); defaults to shareDir. */
  exportName?: string;
  lockTimeoutMs?: number;
  onLockContended?: FileLockOptions['onContended'];
  /** Replaces the lock-file implementation (e.g. proper-lockfile). */
  locks?: VolumeLocks;
  /**
   * Called after each durable step of a phase, by name. A test throws here to stop a phase at
   * that point, as a crash would, and then checks that running the phase again finishes the job.
   */
  afterStep?: (step: string) => void | Promise<void>;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class RemoteFsDriver implements VolumeDriver {
  readonly name = 'remotefs';
  readonly supportsAssistedSnapshots = true;
  // Cinder's remotefs.py holds the volume lock across the whole snapshot operation, Nova's part included.
  readonly exclusiveAssistedOperations = true;
  readonly shareDir: string;
  readonly exportName: string;
  private readonly infos: InfoStore;
  private readonly locks: VolumeLocks;
  private readonly afterStep: (step: string) => void | Promise<void>;

  constructor(options: RemoteFsDriverOptions) {
    this.shareDir = path.resolve(options.shareDir);
    this.exportName = options.exportName ?? this.shareDir;
    this.infos = new InfoStore(this.shareDir);
    this.locks =
      options.locks ??
      new FileVolumeLocks((volumeId) => path.join(this.shareDir, lockFile(volumeId)), {
        timeoutMs: options.lockTimeoutMs,
        onContended: options.onLockContended,
      });
    this.afterStep = options.afterStep ?? (() => {});
  }

  private at(name: string): string {
    return path.join(this.shareDir, name);
  }

  private withVolume<T>(volumeId: string, fn: () => Promise<T>): Promise<T> {
    volumeFile(volumeId); // validates the id before it becomes a lock file name
    return this.locks.withLock(volumeId, fn);
  }

  // ---- volumes ------------------------------------------------------------------------------

  async createVolume(volume: VolumeRef): Promise<{ providerLocation: string }> {
    // Only here: for any other operation a missing share means it is not mounted, and creating
    // the directory would put volumes on the local disk under the mount point.
    volumeFile(volume.id);
    await fs.mkdir(this.shareDir, { recursive: true });
    return this.withVolume(volume.id, async () => {
      const info = await this.recover(volume.id);
      const file = info?.active ?? volumeFile(volume.id);
      if (info || (await exists(this.at(file)))) {
        await this.checkImage(file, volume.size);
      } else {
        const temp = this.at(`${file}${TEMP_MARKER}${randomUUID()}`);
        await createImage(temp, volume.size);
        await this.publish(temp, this.at(file));
      }
      return { providerLocation: this.exportName };
    });
  }

  async deleteVolume(volume: VolumeRef): Promise<void> {
    volumeFile(volume.id);
    if (!(await exists(this.shareDir))) return;
    await this.withVolume(volume.id, async () => {
      let names: string[];
      try {
        names = await fs.readdir(this.shareDir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      const info = this.infos.pathOf(volume.id);
      // The lock file is ours while we run; releasing it removes it.
      const doomed = names.filter((n) => belongsToVolume(volume.id, n) && !n.startsWith(lockFile(volume.id)));
      // .info last: until it goes, a re-run after a crash still recognises the volume's files.
      for (const name of doomed.filter((n) => this.at(n) !== info)) await fs.rm(this.at(name), { force: true });
      await fs.rm(info, { force: true });
      await fsyncDir(this.shareDir);
    });
  }

  async initializeConnection(volume: VolumeRef, _connector: Record<string, unknown>): Promise<ConnectionInfo> {
    return this.withVolume(volume.id, async () => {
      const info = await this.recover(volume.id);
      return this.connectionInfo(info?.active ?? volumeFile(volume.id), volume.size);
    });
  }

  // ---- offline snapshots (volume detached) --------------------------------------------------

  async createSnapshot(snapshot: SnapshotRef): Promise<PhaseResult> {
    const { volumeId, id } = snapshot;
    return this.withVolume(volumeId, async () => {
      const info = await this.recover(volumeId);
      if (info && id in info) return {};
      const active = info?.active ?? volumeFile(volumeId);
      const file = await this.ensureOverlay(volumeId, id, active, snapshot.volume.size, info);
      await this.infos.write(volumeId, { ...(info ?? {}), active: file, [id]: file });
      await this.afterStep('info-written');
      return {};
    });
  }

  async deleteSnapshot(snapshot: SnapshotRef): Promise<PhaseResult> {
    const { volumeId, id } = snapshot;
    return this.withVolume(volumeId, async () => {
      const info = await this.recover(volumeId);
      // remotefs.py _delete_snapshot: no record means nothing was ever created for it.
      if (!info || !(id in info) || id === 'active') return {};
      const file = info[id];
      const owners = idsOf(info, file);
      if (owners.length !== 1) throw new Error(`${file} is the file of snapshots ${owners.join(', ')} in ${this.infos.pathOf(volumeId)}`);
      if (!(await exists(this.at(file)))) throw new Error(`${file}, the file of snapshot ${id}, is missing from ${this.shareDir}`);

      const chain = await this.chainOf(volumeId, info.active);
      const at = chain.findIndex((l) => l.name === file);
      const next: SnapInfo = { ...info };
      delete next[id];

      if (at < 0) {
        // In a consistent share, only after a crash between the rebase and the retire below: the merge is
        // done and nothing reads this file any more.
        await this.retireAndRecord(volumeId, file, next);
        return {};
      }
      const base = chain[at + 1];
      if (!base) {
        // The chain's root: nothing lies below it, so the snapshot holds no data to merge.
        await this.infos.write(volumeId, next);
        await this.afterStep('info-written');
        return {};
      }
      await commitIntoBacking(this.at(file));
      await this.afterStep('committed');
      if (at === 0) {
        next.active = base.name;
      } else {
        // The file above now reads the merged data straight from the base.
        await rebaseUnsafe(this.at(chain[at - 1].name), base.name, base.format);
        await this.afterStep('rebased');
      }
      await this.retireAndRecord(volumeId, file, next);
      return {};
    });
  }

  /**
   * Takes `file` out of the share in three steps: rename it aside (a re-run can still read its
   * header), record .info without it, then remove it. recover() finishes the job from either
   * intermediate state.
   */
  private async retireAndRecord(volumeId: string, file: string, next: SnapInfo): Promise<void> {
    const retired = this.at(`${file}${RETIRED_SUFFIX}`);
    await fs.rename(this.at(file), retired);
    await fsyncDir(this.shareDir);
    await this.afterStep('retired');
    await this.infos.write(volumeId, next);
    await this.afterStep('info-written');
    await fs.rm(retired, { force: true });
  }

  // ---- assisted snapshots (volume attached) -------------------------------------------------

  async createSnapshotAssistedBegin(snapshot: SnapshotRef): Promise<PhaseResult> {
    const { volumeId, id } = snapshot;
    return this.withVolume(volumeId, async () => {
      const info = await this.recover(volumeId);
      const newFile = snapshotFile(volumeId, id);
      if (!(info && id in info)) {
        await this.ensureOverlay(volumeId, id, info?.active ?? volumeFile(volumeId), snapshot.volume.size, info);
      }
      // Nova's create_info, key for key: compute switches the VM to new_file.
      return { adminMetadata: { [CREATE_INFO_KEY]: JSON.stringify({ snapshot_id: id, type: 'qcow2', new_file: newFile }) } };
    });
  }

  async createSnapshotAssistedComplete(snapshot: SnapshotRef): Promise<PhaseResult> {
    const { volumeId, id } = snapshot;
    return this.withVolume(volumeId, async () => {
      const info = await this.recover(volumeId);
      const newFile = snapshotFile(volumeId, id);
      const told = snapshot.adminMetadata[CREATE_INFO_KEY];
      if (told && (JSON.parse(told) as { new_file?: unknown }).new_file !== newFile) {
        throw new Error(`create_info of snapshot ${id} names ${told}, expected new_file ${newFile}`);
      }
      if (info && id in info) {
        return { volume: { connectionInfo: await this.connectionInfo(info.active, snapshot.volume.size) } };
      }
      const active = info?.active ?? volumeFile(volumeId);
      if (!(await exists(this.at(newFile)))) throw new Error(`${newFile}, the new file of snapshot ${id}, is missing from ${this.shareDir}`);
      const backing = this.backingName(volumeId, (await imageInfo(this.at(newFile))).backingFile);
      if (backing !== active) throw new Error(`${newFile} is backed by ${backing ?? 'nothing'}, but the active file is ${active}`);
      await this.infos.write(volumeId, { ...(info ?? {}), active: newFile, [id]: newFile });
      await this.afterStep('info-written');
      return { volume: { connectionInfo: await this.connectionInfo(newFile, snapshot.volume.size) } };
    });
  }

  async deleteSnapshotAssistedBegin(snapshot: SnapshotRef): Promise<PhaseResult> {
    const { volumeId, id } = snapshot;
    return this.withVolume(volumeId, async (): Promise<PhaseResult> => {
      const info = await this.recover(volumeId);
      const chain = info ? await this.chainOf(volumeId, info.active) : [];
      // A plan left by an earlier attempt whose merge compute already carried out must not be
      // planned again: recomputed on the merged chain, it would merge a different snapshot.
      const earlier = this.recordedPlan(snapshot);
      if (earlier && info && id in info && mergeOutstanding(earlier, chain) === null) {
        // Compute already merged (its callback was lost and the delete is being retried):
        // only the complete phase is left, with the plan recorded the first time.
        return { skipCompute: true };
      }
      let plan: DeletePlan;
      try {
        plan = planOnlineDelete(volumeId, id, info, chain);
      } catch (err) {
        if (!(err instanceof NothingToMergeError)) throw err;
        // E.g. the snapshot's create failed before it reached .info: Cinder deletes such a
        // snapshot without asking compute, and so do we.
        return { skipCompute: true, adminMetadata: { [DELETE_PLAN_KEY]: JSON.stringify({ snapshotId: id, mode: 'none' }) } };
      }
      return {
        adminMetadata: { [DELETE_INFO_KEY]: JSON.stringify(plan.deleteInfo), [DELETE_PLAN_KEY]: JSON.stringify(plan) },
      };
    });
  }

  async deleteSnapshotAssistedComplete(snapshot: SnapshotRef): Promise<PhaseResult> {
    const { volumeId, id } = snapshot;
    return this.withVolume(volumeId, async () => {
      const raw = snapshot.adminMetadata[DELETE_PLAN_KEY];
      if (raw && (JSON.parse(raw) as { mode?: string }).mode === 'none') {
        // Nothing was merged; only a stale .info entry (if any) goes, no file is touched.
        const current = await this.recover(volumeId);
        if (current && id in current) {
          const next: SnapInfo = { ...current };
          delete next[id];
          await this.infos.write(volumeId, next);
        }
        return { volume: { adminMetadata: { format: 'qcow2' } } };
      }
      const plan = this.recordedPlan(snapshot);
      if (!plan) throw new Error(`snapshot ${id} has no ${DELETE_PLAN_KEY}: deleteSnapshotAssistedBegin did not run`);
      let info = await this.recover(volumeId);
      if (!info) throw new Error(`${this.infos.pathOf(volumeId)} is missing`);
      let chain = await this.chainOf(volumeId, info.active);
      if (id in info) {
        const outstanding = mergeOutstanding(plan, chain);
        if (outstanding) throw new Error(`compute has not merged snapshot ${id}: ${outstanding}`);
        const next: SnapInfo = { ...info };
        delete next[id];
        // remotefs.py _delete_snapshot_online: after a pull the base's snapshot lives in the active file.
        if (plan.mode === 'pull' && plan.baseId !== null) next[plan.baseId] = plan.snapshotFile;
        await this.infos.write(volumeId, next);
        await this.afterStep('info-written');
        info = next;
        chain = await this.chainOf(volumeId, info.active);
      }
      const stale = plan.fileToDelete;
      if (await exists(this.at(stale))) {
        if (isReferenced(info, stale) || chain.some((l) => l.name === stale)) {
          throw new Error(`refusing to remove ${stale}: it is still in use by volume ${volumeId}`);
        }
        await fs.rm(this.at(stale), { force: true });
      }
      // remotefs.py sets format=qcow2 after a pull (the raw base may be gone); every file here is qcow2.
      return { volume: { adminMetadata: { format: 'qcow2' } } };
    });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private recordedPlan(snapshot: SnapshotRef): DeletePlan | null {
    const raw = snapshot.adminMetadata[DELETE_PLAN_KEY];
    if (!raw) return null;
    const plan = JSON.parse(raw) as DeletePlan;
    return plan.snapshotId === snapshot.id ? plan : null;
  }

  /**
   * Clears what an interrupted phase left behind: temporaries (never referenced, and nobody else
   * writes while we hold the lock) and retired files. A retired file whose name .info still
   * references was taken out of the chain by an offline delete that stopped before recording it;
   * recording it now is exactly what that delete had left to do.
   */
  private async recover(volumeId: string): Promise<SnapInfo | null> {
    let info = await this.infos.read(volumeId);
    let names: string[];
    try {
      names = await fs.readdir(this.shareDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return info;
      throw err;
    }
    const lock = lockFile(volumeId);
    for (const name of names) {
      if (!belongsToVolume(volumeId, name) || name.startsWith(lock)) continue;
      if (name.includes(TEMP_MARKER)) {
        await fs.rm(this.at(name), { force: true });
        continue;
      }
      if (!name.endsWith(RETIRED_SUFFIX)) continue;
      const original = name.slice(0, -RETIRED_SUFFIX.length);
      if (info && isReferenced(info, original) && !(await exists(this.at(original)))) {
        const next: SnapInfo = { ...info };
        for (const id of idsOf(info, original)) delete next[id];
        if (info.active === original) {
          const below = this.backingName(volumeId, (await imageInfo(this.at(name))).backingFile);
          if (!below) throw new Error(`${name} has no backing file to become the active file`);
          next.active = below;
        }
        await this.infos.write(volumeId, next);
        await this.afterStep('info-written');
        info = next;
      }
      if (!isReferenced(info, original)) await fs.rm(this.at(name), { force: true });
    }
    return info;
  }

  /**
   * The overlay for snapshot `id` on `active`, as §2 of the reference: qemu-img create with the
   * absolute backing path, then rebase -u to the relative name. Built under a temporary name, so
   * a file with the final name is always complete; one left by an earlier run is kept if it
   * already sits on `active`.
   */
  private async ensureOverlay(volumeId: string, id: string, active: string, sizeGiB: number, info: SnapInfo | null): Promise<string> {
    const file = snapshotFile(volumeId, id);
    if (await exists(this.at(file))) {
      if (this.backingName(volumeId, (await imageInfo(this.at(file))).backingFile) === active) return file;
      if (isReferenced(info, file)) throw new Error(`${file} exists, is in use, and is not backed by the active file ${active}`);
      await fs.rm(this.at(file));
    }
    const format = (await imageInfo(this.at(active))).format;
    const temp = this.at(`${file}${TEMP_MARKER}${randomUUID()}`);
    await createOverlay(temp, this.at(active), active, format, sizeGiB);
    await this.publish(temp, this.at(file));
    await this.afterStep('overlay-created');
    return file;
  }

  private async publish(temp: string, target: string): Promise<void> {
    await fsyncFile(temp);
    await fs.rename(temp, target);
    await fsyncDir(this.shareDir);
  }

  /**
   * A backing pointer as a file name in the share. Like Cinder's RemoteFSInvalidBackingFile
   * check, anything that is not one of this volume's chain files is refused: a header pointing
   * elsewhere would let a guest-written image read other files.
   */
  private backingName(volumeId: string, backing: string | null): string | null {
    if (backing === null) return null;
    const name = path.isAbsolute(backing) && path.dirname(backing) === this.shareDir ? path.basename(backing) : backing;
    if (!isChainFileName(volumeId, name)) throw new Error(`invalid backing file ${JSON.stringify(backing)} in the chain of volume ${volumeId}`);
    return name;
  }

  private async chainOf(volumeId: string, active: string): Promise<ChainLink[]> {
    const chain = await backingChain(this.at(active));
    return chain.map((link, i) => ({
      name: i === 0 ? active : path.basename(link.filename),
      format: link.format,
      virtualSize: link.virtualSize,
      backing: this.backingName(volumeId, link.backingFile),
    }));
  }

  private async checkImage(file: string, sizeGiB: number) {
    const info = await imageInfo(this.at(file));
    // nfs.py initialize_connection: anything else suggests the file was tampered with.
    if (info.format !== 'qcow2' && info.format !== 'raw') throw new Error(`${file} is ${info.format}, not a qcow2 or raw image`);
    if (info.virtualSize !== sizeGiB * GiB) {
      throw new Error(`${file} has virtual size ${info.virtualSize} bytes, but the volume is ${sizeGiB} GiB`);
    }
    return info;
  }

  /** nfs.py initialize_connection's shape, naming the active file. */
  private async connectionInfo(active: string, sizeGiB: number): Promise<ConnectionInfo> {
    const info = await this.checkImage(active, sizeGiB);
    return {
      driver_volume_type: 'nfs',
      data: { export: this.exportName, name: active, options: null, format: info.format },
      mount_point_base: this.shareDir,
    };
  }
}
