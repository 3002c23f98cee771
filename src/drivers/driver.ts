// The storage driver contract, as the "Assisted Snapshot Improvements" spec describes it: a
// driver that declares `supportsAssistedSnapshots` gets one call per phase instead of a single
// createSnapshot / deleteSnapshot, and returns what to record. The manager, never the driver,
// writes the database, so a phase's result lands in the same commit as the state change it causes.
import type { DriverPhase, ReconcileVerdict } from '../../machines/snapshot.js';

/** Snapshot columns a driver may ask the manager to set. Status and progress belong to the machine. */
export interface SnapshotFieldUpdate {
  providerLocation?: string | null;
  providerId?: string | null;
}

export interface PhaseResult {
  /**
   * Begin phases only: compute has nothing to do (e.g. a delete with nothing to merge), so the
   * machine goes straight to the complete phase instead of asking compute.
   */
  skipCompute?: boolean;
  snapshot?: SnapshotFieldUpdate;
  /** Keys to set on snapshot_admin_metadata; null removes (soft-deletes) the key. */
  adminMetadata?: Record<string, string | null>;
  /** What changes on the snapshot's volume (e.g. its active file after a create completes). */
  volume?: {
    /** Keys to set on volume_admin_metadata (e.g. `format`); null removes the key. */
    adminMetadata?: Record<string, string | null>;
    /** New connection info for the volume's current attachment(s). */
    connectionInfo?: Record<string, unknown>;
  };
  /** Reconcile phases only: what the driver found, which the engine hands the machine as the verdict. */
  reconcile?: ReconcileReport;
}

export interface ReconcileReport {
  verdict: ReconcileVerdict;
  /** The verdict's grounds in one line (it becomes the error reason's detail). */
  reason: string;
  /** What was seen: chain, locks, compute's report. Recorded in the history and admin metadata. */
  evidence: Record<string, unknown>;
}

/**
 * Compute's own account of which file an instance has open for a volume, where compute offers one
 * (the embedded agent's status extension; Nova has no such API). `null`: compute has no
 * instance with the volume attached.
 */
export interface ActiveFileProbe {
  activeFile(volumeId: string): Promise<{ activeFile: string | null; instanceId: string | null }>;
}

/** Snapshot admin metadata keys where a reconcile phase leaves its verdict and evidence. */
export const RECONCILE_VERDICT_KEY = 'reconcile_verdict';
export const RECONCILE_EVIDENCE_KEY = 'reconcile_evidence';

/** A file in the share that no volume or snapshot owns; reported, never removed. */
export interface OrphanFile {
  name: string;
  size: number;
  modifiedAt: string;
  /** Why nothing owns it, e.g. `volume 1234 does not exist`. */
  why: string;
}

/** What the service still owns, for the orphan scan. */
export interface OwnedIds {
  volumeIds: ReadonlySet<string>;
  snapshotIds: ReadonlySet<string>;
}

/** What os-initialize_connection hands to compute, in the driver's shape. */
export type ConnectionInfo = Record<string, unknown>;

/**
 * Admin metadata keys through which a begin phase hands compute its instructions: the value is
 * the JSON `create_info` / `delete_info` of Nova's os-assisted-volume-snapshots API.
 */
export const CREATE_INFO_KEY = 'create_info';
export const DELETE_INFO_KEY = 'delete_info';

export interface VolumeRef {
  id: string;
  size: number;
  status: string;
  attachStatus: string;
  providerLocation: string | null;
}

export interface SnapshotRef {
  id: string;
  volumeId: string;
  volumeSize: number;
  providerLocation: string | null;
  providerId: string | null;
  volume: VolumeRef;
  /** Current (not deleted) admin metadata of the snapshot. */
  adminMetadata: Record<string, string>;
}

/** What the share's filesystem holds (statvfs), for the scheduler's pool stats. */
export interface BackendCapacity {
  totalBytes: number;
  freeBytes: number;
}

/** What a backend reports of itself in its capabilities. */
export interface BackendInfo {
  vendorName: string;
  driverVersion: string;
  storageProtocol: string;
}

export interface VolumeDriver {
  readonly name: string;
  readonly info?: BackendInfo;
  readonly supportsAssistedSnapshots: boolean;
  /**
   * Assisted operations on one volume must not overlap: each plans against the state the one
   * before leaves (RemoteFS: the active file of the qcow2 chain). The engine then starts a begin
   * phase only while no other snapshot of the volume is between its begin and its complete phase.
   */
  readonly exclusiveAssistedOperations?: boolean;

  createVolume(volume: VolumeRef): Promise<{ providerLocation?: string | null }>;
  deleteVolume(volume: VolumeRef): Promise<void>;
  /**
   * A new volume holding the snapshot's data, `volume.size` GiB (at least the snapshot's size).
   * The engine keeps the snapshot available while this runs. Idempotent, as every phase.
   */
  createVolumeFromSnapshot?(volume: VolumeRef, snapshot: SnapshotRef): Promise<{ providerLocation?: string | null }>;
  /** A new volume holding `source`'s current data (it may be in use), `volume.size` GiB. */
  createClonedVolume?(volume: VolumeRef, source: VolumeRef): Promise<{ providerLocation?: string | null }>;
  /** Grows the volume to `newSizeGiB`; the volume row keeps its old size until this succeeds. */
  extendVolume?(volume: VolumeRef, newSizeGiB: number): Promise<void>;
  /** Connection info for os-initialize_connection; `connector` is what compute sent. */
  initializeConnection?(volume: VolumeRef, connector: Record<string, unknown>): Promise<ConnectionInfo>;

  // Every phase may run more than once (a worker can die after the effect and before its result
  // is recorded), so implementations must be idempotent.
  createSnapshot(snapshot: SnapshotRef): Promise<PhaseResult>;
  deleteSnapshot(snapshot: SnapshotRef): Promise<PhaseResult>;
  createSnapshotAssistedBegin?(snapshot: SnapshotRef): Promise<PhaseResult>;
  createSnapshotAssistedComplete?(snapshot: SnapshotRef): Promise<PhaseResult>;
  deleteSnapshotAssistedBegin?(snapshot: SnapshotRef): Promise<PhaseResult>;
  deleteSnapshotAssistedComplete?(snapshot: SnapshotRef): Promise<PhaseResult>;
  /**
   * Compute's deadline passed (or an admin asked): find out from the files whether compute did its
   * part, and answer `reconcile`. A create's unused overlay is rolled back here, under the volume
   * lock, so the check and the removal see the same share.
   */
  reconcileCreate?(snapshot: SnapshotRef): Promise<PhaseResult>;
  reconcileDelete?(snapshot: SnapshotRef): Promise<PhaseResult>;
  /**
   * Files in the backend that no volume or snapshot accounts for. Read only. `owned` is asked
   * after the files are listed: rows are written before their files, so a file created during
   * the scan is never taken for an orphan.
   */
  findOrphans?(owned: () => Promise<OwnedIds>): Promise<OrphanFile[]>;
  /** The backend's capacity now; absent: unknown (Cinder's "unknown"). */
  capacity?(): Promise<BackendCapacity>;
}

// The machine names the phases (its driver effects); runDriverPhase below fails to compile if one
// of them is not a method here.
export type { DriverPhase };

export function runDriverPhase(driver: VolumeDriver, phase: DriverPhase, snapshot: SnapshotRef): Promise<PhaseResult> {
  const fn = driver[phase];
  if (!fn) throw new Error(`driver ${driver.name} does not implement ${phase}`);
  return fn.call(driver, snapshot);
}
