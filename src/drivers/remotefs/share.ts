// The share as every phase of the driver sees it: where a volume's files are, the volume lock
// each phase runs under, the chain as qemu-img reads it, and the image checks compute relies on.
// The phases themselves live in one module per job (volumes, offline, assisted-create,
// assisted-delete), with recovery run first by each.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { backingChain, imageInfo } from '../../qemu/qemu-img.js';
import { FileVolumeLocks, writeDurably, type FileLockOptions, type VolumeLocks } from '../../share-fs/index.js';
import type { ActiveFileProbe, ConnectionInfo } from '../driver.js';
import { InfoStore } from './info-store.js';
import { isChainFileName, lockFile, volumeFile } from './layout.js';
import type { ChainLink } from './merge-plan.js';

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
  /** Compute's report of the file an instance has open, used as evidence when reconciling. */
  activeFileProbe?: ActiveFileProbe;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export class RemoteFsShare {
  readonly dir: string;
  readonly exportName: string;
  readonly infos: InfoStore;
  readonly afterStep: (step: string) => void | Promise<void>;
  private readonly locks: VolumeLocks;

  constructor(options: RemoteFsDriverOptions) {
    this.dir = path.resolve(options.shareDir);
    this.exportName = options.exportName ?? this.dir;
    this.infos = new InfoStore(this.dir);
    this.locks =
      options.locks ??
      new FileVolumeLocks((volumeId) => path.join(this.dir, lockFile(volumeId)), {
        timeoutMs: options.lockTimeoutMs,
        onContended: options.onLockContended,
      });
    this.afterStep = options.afterStep ?? (() => {});
  }

  /** The path of `name`, a file name in the share. */
  at(name: string): string {
    return path.join(this.dir, name);
  }

  withVolume<T>(volumeId: string, fn: () => Promise<T>): Promise<T> {
    volumeFile(volumeId); // validates the id before it becomes a lock file name
    return this.locks.withLock(volumeId, fn);
  }

  /** Puts a file that `fill` builds under a temporary name in place as `name`, durably. */
  publish(name: string, fill: (temp: string) => Promise<void>): Promise<void> {
    return writeDurably(this.at(name), fill);
  }

  /**
   * A backing pointer as a file name in the share. Like Cinder's RemoteFSInvalidBackingFile
   * check, anything that is not one of this volume's chain files is refused: a header pointing
   * elsewhere would let a guest-written image read other files.
   */
  backingName(volumeId: string, backing: string | null): string | null {
    if (backing === null) return null;
    const name = path.isAbsolute(backing) && path.dirname(backing) === this.dir ? path.basename(backing) : backing;
    if (!isChainFileName(volumeId, name)) throw new Error(`invalid backing file ${JSON.stringify(backing)} in the chain of volume ${volumeId}`);
    return name;
  }

  async chainOf(volumeId: string, active: string): Promise<ChainLink[]> {
    const chain = await backingChain(this.at(active));
    return chain.map((link, i) => ({
      name: i === 0 ? active : path.basename(link.filename),
      format: link.format,
      virtualSize: link.virtualSize,
      backing: this.backingName(volumeId, link.backingFile),
    }));
  }

  async checkImage(file: string, sizeGiB: number) {
    const info = await imageInfo(this.at(file));
    // nfs.py initialize_connection: anything else suggests the file was tampered with.
    if (info.format !== 'qcow2' && info.format !== 'raw') throw new Error(`${file} is ${info.format}, not a qcow2 or raw image`);
    if (info.virtualSize !== sizeGiB * GiB) {
      throw new Error(`${file} has virtual size ${info.virtualSize} bytes, but the volume is ${sizeGiB} GiB`);
    }
    return info;
  }

  /** nfs.py initialize_connection's shape, naming the active file. */
  async connectionInfo(active: string, sizeGiB: number): Promise<ConnectionInfo> {
    const info = await this.checkImage(active, sizeGiB);
    return {
      driver_volume_type: 'nfs',
      data: { export: this.exportName, name: active, options: null, format: info.format },
      mount_point_base: this.dir,
    };
  }
}
