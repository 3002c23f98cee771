// The RemoteFS qcow2 driver: each volume is a qcow2 chain of files in one shared directory, with
// volume-<id>.info naming the active file and each snapshot's file (see
// shared/reference/assisted-snapshots.md §2). Detached volumes are snapshotted here with
// qemu-img (offline.ts); attached ones in two phases around compute, which alone touches files a
// VM has open (assisted-create.ts, assisted-delete.ts).
//
// Every phase runs under the volume's lock and may run again after a crash at any point, so each
// step either checks whether it already happened or is harmless to repeat, and the order of
// steps keeps every intermediate state recognisable: chain changes first, then .info, then file
// removal. Each phase starts with recovery.ts, which finishes or clears what a crash left.
import { statfs } from 'node:fs/promises';
import type { ActiveFileProbe, BackendCapacity, ConnectionInfo, OrphanFile, OwnedIds, PhaseResult, SnapshotRef, VolumeDriver, VolumeRef } from '../driver.js';
import * as assistedCreate from './assisted-create.js';
import * as assistedDelete from './assisted-delete.js';
import * as copies from './copies.js';
import * as offline from './offline.js';
import { findOrphans } from './orphans.js';
import * as reconcile from './reconcile.js';
import { RemoteFsShare, type RemoteFsDriverOptions } from './share.js';
import * as volumes from './volumes.js';

export { DELETE_PLAN_KEY } from './assisted-delete.js';
export type { RemoteFsDriverOptions } from './share.js';

export class RemoteFsDriver implements VolumeDriver {
  readonly name = 'remotefs';
  // Cinder's NFS driver reports the same vendor and protocol; its version is this driver's own.
  readonly info = { vendorName: 'Open Source', driverVersion: '1.0.0', storageProtocol: 'nfs' };
  readonly supportsAssistedSnapshots = true;
  // Cinder's remotefs.py holds the volume lock across the whole snapshot operation, Nova's part included.
  readonly exclusiveAssistedOperations = true;
  readonly shareDir: string;
  readonly exportName: string;
  private readonly share: RemoteFsShare;
  private readonly probe: ActiveFileProbe | undefined;

  constructor(options: RemoteFsDriverOptions) {
    this.share = new RemoteFsShare(options);
    this.probe = options.activeFileProbe;
    this.shareDir = this.share.dir;
    this.exportName = this.share.exportName;
  }

  async createVolume(volume: VolumeRef): Promise<{ providerLocation: string }> {
    return volumes.createVolume(this.share, volume);
  }

  async deleteVolume(volume: VolumeRef): Promise<void> {
    return volumes.deleteVolume(this.share, volume);
  }

  async createVolumeFromSnapshot(volume: VolumeRef, snapshot: SnapshotRef): Promise<{ providerLocation: string }> {
    return copies.createVolumeFromSnapshot(this.share, volume, snapshot);
  }

  async createClonedVolume(volume: VolumeRef, source: VolumeRef): Promise<{ providerLocation: string }> {
    return copies.createClonedVolume(this.share, volume, source);
  }

  async extendVolume(volume: VolumeRef, newSizeGiB: number): Promise<void> {
    return copies.extendVolume(this.share, volume, newSizeGiB);
  }

  async initializeConnection(volume: VolumeRef, _connector: Record<string, unknown>): Promise<ConnectionInfo> {
    return volumes.initializeConnection(this.share, volume);
  }

  async createSnapshot(snapshot: SnapshotRef): Promise<PhaseResult> {
    return offline.createSnapshot(this.share, snapshot);
  }

  async deleteSnapshot(snapshot: SnapshotRef): Promise<PhaseResult> {
    return offline.deleteSnapshot(this.share, snapshot);
  }

  async createSnapshotAssistedBegin(snapshot: SnapshotRef): Promise<PhaseResult> {
    return assistedCreate.createSnapshotAssistedBegin(this.share, snapshot);
  }

  async createSnapshotAssistedComplete(snapshot: SnapshotRef): Promise<PhaseResult> {
    return assistedCreate.createSnapshotAssistedComplete(this.share, snapshot);
  }

  async deleteSnapshotAssistedBegin(snapshot: SnapshotRef): Promise<PhaseResult> {
    return assistedDelete.deleteSnapshotAssistedBegin(this.share, snapshot);
  }

  async deleteSnapshotAssistedComplete(snapshot: SnapshotRef): Promise<PhaseResult> {
    return assistedDelete.deleteSnapshotAssistedComplete(this.share, snapshot);
  }

  async reconcileCreate(snapshot: SnapshotRef): Promise<PhaseResult> {
    return reconcile.reconcileCreate(this.share, this.probe, snapshot);
  }

  async reconcileDelete(snapshot: SnapshotRef): Promise<PhaseResult> {
    return reconcile.reconcileDelete(this.share, this.probe, snapshot);
  }

  async findOrphans(owned: () => Promise<OwnedIds>): Promise<OrphanFile[]> {
    return findOrphans(this.share, owned);
  }

  /** statvfs of the share, as Cinder's RemoteFS drivers report total and free capacity. */
  async capacity(): Promise<BackendCapacity> {
    const s = await statfs(this.shareDir);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  }
}
