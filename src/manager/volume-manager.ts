// The manager's one face for the API, the service and the tests: it hands each call to the
// module whose job it is (volume-commands.ts, snapshot-commands.ts, snapshot-metadata.ts,
// listing.ts, reads.ts) and holds nothing itself.
import type { ResettableStatus } from '../../machines/snapshot.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import type { SnapshotRow } from '../engine/store/index.js';
import { listSnapshots, listVolumes, type ListOptions } from './listing.js';
import { OrphanFiles } from './orphan-files.js';
import { Reads } from './reads.js';
import { SnapshotCommands, type CreateSnapshotInput, type SnapshotIdOrRow, type SnapshotStatusUpdate } from './snapshot-commands.js';
import type { Limits } from './limits.js';
import { deleteSnapshotMetadataKey, setSnapshotMetadata } from './snapshot-metadata.js';
import { TransferCommands } from './transfer-commands.js';
import { VolumeCommands, type AttachInput, type CreateVolumeInput } from './volume-commands.js';

export type { CreateVolumeInput } from './volume-commands.js';
export type { Limits } from './limits.js';
export { callbackRefusal, COMPUTE_PROGRESS_KEY, COMPUTE_STATUS_KEY } from './snapshot-commands.js';
export type { CreateSnapshotInput, SnapshotIdOrRow, SnapshotStatusUpdate } from './snapshot-commands.js';

export class VolumeManager {
  readonly reads: Reads;
  readonly volumes: VolumeCommands;
  readonly snapshots: SnapshotCommands;
  readonly orphans: OrphanFiles;
  readonly transfers: TransferCommands;

  constructor(
    readonly engine: Engine,
    readonly driver: VolumeDriver,
    /** The request limits (src/config.ts `limitsOf`). */
    readonly limits: Limits,
  ) {
    this.reads = new Reads(engine.store);
    this.volumes = new VolumeCommands(engine, driver, this.reads, limits);
    this.snapshots = new SnapshotCommands(engine, driver, this.reads, limits);
    this.orphans = new OrphanFiles(engine, driver);
    this.transfers = new TransferCommands(engine, this.reads);
  }

  // Volumes.
  createVolume = (input: CreateVolumeInput) => this.volumes.create(input);
  reserveVolume = (id: string) => this.volumes.reserve(id);
  unreserveVolume = (id: string) => this.volumes.unreserve(id);
  beginDetaching = (id: string) => this.volumes.beginDetaching(id);
  rollDetaching = (id: string) => this.volumes.rollDetaching(id);
  initializeConnection = (id: string, connector: Record<string, unknown>) => this.volumes.initializeConnection(id, connector);
  attachVolume = (id: string, attach: AttachInput) => this.volumes.attach(id, attach);
  detachVolume = (id: string, attachmentId?: string | null) => this.volumes.detach(id, attachmentId);
  updateVolume = (id: string, fields: { name?: string | null; description?: string | null }) => this.volumes.update(id, fields);
  resetVolumeStatus = (id: string, fields: { status?: string | null; attachStatus?: string | null }) => this.volumes.resetStatus(id, fields);
  deleteVolume = (id: string, force = false, cascade = false) => this.volumes.delete(id, force, cascade);
  extendVolume = (id: string, newSize: number) => this.volumes.extend(id, newSize);
  getVolume = (id: string) => this.reads.volume(id);
  volumeTransitions = (id: string) => this.reads.volumeTransitions(id);
  volumeOwner = (id: string) => this.reads.volumeOwner(id);
  listVolumes = (options: ListOptions) => listVolumes(this.engine.store, options);

  /** Refuses metadata with more items than a volume or snapshot may hold. */

  // Snapshots.
  createSnapshot = (input: CreateSnapshotInput) => this.snapshots.create(input);
  deleteSnapshot = (snapshot: SnapshotIdOrRow) => this.snapshots.delete(snapshot);
  updateSnapshotStatus = (snapshot: SnapshotIdOrRow, update: SnapshotStatusUpdate) => this.snapshots.updateStatus(snapshot, update);
  resetSnapshotStatus = (snapshot: SnapshotIdOrRow, status: ResettableStatus) => this.snapshots.resetStatus(snapshot, status);
  forceDeleteSnapshot = (snapshot: SnapshotIdOrRow) => this.snapshots.forceDelete(snapshot);
  reconcileSnapshot = (snapshot: SnapshotIdOrRow) => this.snapshots.reconcile(snapshot);
  /** Files the backend holds that nothing owns (scanned now; never removed). */
  scanOrphanFiles = () => this.orphans.scan();
  updateSnapshotFields = (id: string, fields: { name?: string | null; description?: string | null }) => this.snapshots.updateFields(id, fields);
  getSnapshot = (id: string): Promise<SnapshotRow> => this.reads.snapshot(id);
  listSnapshots = (options: ListOptions) => listSnapshots(this.engine.store, options);
  transitions = (id: string) => this.reads.transitions(id);
  snapshotOwner = (id: string) => this.reads.snapshotOwner(id);
  metadata = (id: string) => this.reads.metadata(id);
  adminMetadata = (id: string) => this.reads.adminMetadata(id);
  setSnapshotMetadata = (id: string, metadata: Record<string, string>, replace: boolean) => setSnapshotMetadata(this.engine, this.limits, id, metadata, replace);
  deleteSnapshotMetadataKey = (id: string, key: string) => deleteSnapshotMetadataKey(this.engine, id, key);
}
