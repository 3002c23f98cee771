// The manager's one face for the API, the service and the tests: it hands each call to the
// module whose job it is (volume-commands.ts, snapshot-commands.ts, snapshot-metadata.ts,
// listing.ts, reads.ts, user-metadata.ts) and holds nothing itself.
import type { ResettableStatus } from '../../machines/snapshot.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import type { SnapshotRow } from '../engine/store/index.js';
import { countSnapshots, countVolumes, listSnapshots, listVolumes, volumeSummary, type ListOptions } from './listing.js';
import { OrphanFiles } from './orphan-files.js';
import { Quotas, type VolumeTypeNames } from './quotas.js';
import { UserMessages } from './messages.js';
import { Reads } from './reads.js';
import { Services, type ServiceIdentity } from './services.js';
import { SnapshotCommands, type CreateSnapshotInput, type SnapshotIdOrRow, type SnapshotStatusUpdate } from './snapshot-commands.js';
import type { Limits } from './limits.js';
import type { GuestPausePolicy } from './pause-policy.js';
import { deleteUserMetadataKey, readUserMetadata, setUserMetadata, snapshotMetadataOwner, volumeMetadataOwner } from './user-metadata.js';
import { TransferCommands } from './transfer-commands.js';
import { VolumeCommands, type AttachInput, type CreateVolumeInput } from './volume-commands.js';
import { VolumeTypes, type TypeViewer } from './volume-types.js';
import { GroupCommands } from './group-commands.js';
import { GroupReactor } from './group-reactor.js';

export type { CreateVolumeInput } from './volume-commands.js';
export type { Limits } from './limits.js';
export type { QuotaUsageView, VolumeTypeNames } from './quotas.js';
export type { ServiceIdentity } from './services.js';
export { PAUSE_GUEST_KEY, type GuestPausePolicy } from './pause-policy.js';
export { callbackRefusal, COMPUTE_PROGRESS_KEY, COMPUTE_STATUS_KEY } from './snapshot-commands.js';
export type { CreateSnapshotInput, SnapshotIdOrRow, SnapshotStatusUpdate } from './snapshot-commands.js';

export class VolumeManager {
  readonly reads: Reads;
  readonly volumes: VolumeCommands;
  readonly snapshots: SnapshotCommands;
  readonly orphans: OrphanFiles;
  /** Volume types, their extra specs, access and encryption, and QoS specs. */
  readonly types: VolumeTypes;
  /** Quotas, quota classes and absolute limits (quotas.ts). */
  readonly quotas: Quotas;
  /** This instance as Cinder's services (scheduler, volume), its backend's pools and capabilities. */
  readonly services: Services;
  readonly messages: UserMessages;
  /** Group types, groups and group snapshots. */
  readonly groups: GroupCommands;
  /** Joins groups and group snapshots to their children (started by the service). */
  readonly groupReactor: GroupReactor;
  readonly transfers: TransferCommands;

  constructor(
    readonly engine: Engine,
    readonly driver: VolumeDriver,
    /** The request limits (src/config.ts `limitsOf`). */
    readonly limits: Limits,
    options: { volumeTypeNames?: VolumeTypeNames; identity?: ServiceIdentity; requestId?: () => string | undefined; guestPause?: GuestPausePolicy } = {},
  ) {
    this.reads = new Reads(engine.store);
    this.types = new VolumeTypes(engine);
    // Per-type quota resources (volumes_<type>, ...) follow the live volume types.
    const typeNames: VolumeTypeNames = async () => (await this.types.list({ projectId: '', isAdmin: true }, null)).map((t) => t.name);
    this.quotas = new Quotas(engine, limits, options.volumeTypeNames ?? typeNames);
    this.volumes = new VolumeCommands(engine, driver, this.reads, this.quotas, this.types, limits);
    this.snapshots = new SnapshotCommands(engine, driver, this.reads, limits, this.quotas, options.guestPause);
    this.orphans = new OrphanFiles(engine, driver);
    this.services = new Services(engine, driver, options.identity);
    this.messages = new UserMessages(engine, options.requestId);
    this.groupReactor = new GroupReactor(engine, driver);
    this.groups = new GroupCommands(engine, this.groupReactor, this.volumes);
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
  updateVolume = (id: string, fields: { name?: string | null; description?: string | null; bootable?: boolean }) => this.volumes.update(id, fields);
  updateVolumeReadonly = (id: string, readonly: boolean) => this.volumes.updateReadonly(id, readonly);
  volumeMetadata = (id: string) => readUserMetadata(this.engine, volumeMetadataOwner(id));
  setVolumeMetadata = async (id: string, metadata: Record<string, string>, replace: boolean) => {
    await this.volumes.assertMetadataWritable(id, 'Updating');
    return setUserMetadata(this.engine, this.limits, volumeMetadataOwner(id), metadata, replace);
  };
  deleteVolumeMetadataKey = async (id: string, key: string) => {
    await this.volumes.assertMetadataWritable(id, 'Deleting');
    return deleteUserMetadataKey(this.engine, volumeMetadataOwner(id), key);
  };
  /** Count and total size of the volumes `projectId` (null: every project) holds, and their metadata. */
  volumeSummary = (projectId: string | null) => volumeSummary(this.engine.store, projectId);
  resetVolumeStatus = (id: string, fields: { status?: string | null; attachStatus?: string | null }) => this.volumes.resetStatus(id, fields);
  deleteVolume = (id: string, force = false, cascade = false) => this.volumes.delete(id, force, cascade);
  extendVolume = (id: string, newSize: number) => this.volumes.extend(id, newSize);
  retypeVolume = (id: string, newType: string, viewer: TypeViewer) => this.volumes.retype(id, newType, viewer);
  getVolume = (id: string) => this.reads.volume(id);
  volumeTransitions = (id: string) => this.reads.volumeTransitions(id);
  volumeOwner = (id: string) => this.reads.volumeOwner(id);
  listVolumes = (options: ListOptions) => listVolumes(this.engine.store, options);
  countVolumes = (options: ListOptions) => countVolumes(this.engine.store, options);

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
  countSnapshots = (options: ListOptions) => countSnapshots(this.engine.store, options);
  transitions = (id: string) => this.reads.transitions(id);
  snapshotOwner = (id: string) => this.reads.snapshotOwner(id);
  metadata = (id: string) => this.reads.metadata(id);
  adminMetadata = (id: string) => this.reads.adminMetadata(id);
  setSnapshotMetadata = (id: string, metadata: Record<string, string>, replace: boolean) =>
    setUserMetadata(this.engine, this.limits, snapshotMetadataOwner(id), metadata, replace);
  deleteSnapshotMetadataKey = (id: string, key: string) => deleteUserMetadataKey(this.engine, snapshotMetadataOwner(id), key);
}
