// The shapes the store reads and writes. Rows are Prisma's model types; writes are plain data
// built by the engine's pure planning step, tagged with the snapshot they belong to so a batch
// can drop everything of one snapshot whose version guard failed without touching the others.
import type { OutboxJob, Snapshot, SnapshotMetadata, SnapshotTransition, Volume, VolumeAdminMetadata, VolumeAttachment, VolumeMetadata, VolumeTransition } from '../../db/client.js';
import type { QuotaDemand } from './quota.js';

export type SnapshotRow = Snapshot;

/**
 * Where an outbox job is. pending: waiting to run, or running under a claimant's lease; done: it
 * ran and its result was recorded (a failed effect too: its failure is an event); cancelled: it no
 * longer applied (the snapshot moved on) or its result was refused. Rows are never deleted.
 */
export type OutboxStatus = 'pending' | 'done' | 'cancelled';
/** What a job closes with. */
export type ClosedJobStatus = Exclude<OutboxStatus, 'pending'>;

export type JobRow = Omit<OutboxJob, 'status'> & { status: OutboxStatus };
export type VolumeRow = Volume;
/** As the API renders a volume: its live attachments, metadata and admin metadata, and its type's name. */
export type VolumeWithAttachments = Volume & {
  attachments: VolumeAttachment[];
  metadata: VolumeMetadata[];
  adminMetadata: VolumeAdminMetadata[];
  volumeType: { name: string } | null;
};

/** What every read of a volume for the API includes: its live attachments and metadata, and its type's name. */
export const VOLUME_VIEW_INCLUDE = {
  attachments: { where: { deleted: false } },
  metadata: { where: { deleted: false }, orderBy: { key: 'asc' } },
  adminMetadata: { where: { deleted: false }, orderBy: { key: 'asc' } },
  volumeType: { select: { name: true } },
} as const;
export type SnapshotWithMetadata = Snapshot & { metadata: SnapshotMetadata[] };

/** What a create request fixes about a volume (its machine state aside). */
export type VolumeIdentity = Pick<Volume, 'id' | 'projectId' | 'userId' | 'size' | 'name' | 'description' | 'volumeTypeId'> &
  Partial<Pick<Volume, 'groupId' | 'snapshotId' | 'sourceVolid'>>;

/** The volume fields a user edits, outside the machine; undefined leaves a column as it is. */
export type VolumeFields = Partial<Pick<Volume, 'name' | 'description' | 'bootable'>>;

/** The columns of a volume row that follow from its machine state (see volume-state-columns.ts). */
export interface VolumeStateColumns {
  machineState: string;
  phase: string;
  status: string;
  attachStatus: string;
  errorReason: string | null;
  phaseEnteredAt: Date;
  deleted: boolean;
  deletedAt: Date | null;
}

/** A volume history row as written (the database assigns the id). */
export type VolumeHistoryRow = Omit<VolumeTransition, 'id'>;

/**
 * What the database must still hold for a volume's step to commit, checked in its transaction:
 * other rows the machine cannot see (its snapshots).
 */
export type VolumeCondition =
  /** No live snapshot at all (a delete). */
  | { kind: 'no_snapshots' }
  /** No snapshot of the volume in one of these statuses (a detach during a snapshot operation). */
  | { kind: 'no_snapshots_in'; statuses: readonly string[] }
  /** Every live snapshot in one of these statuses (a cascade delete deletes them all). */
  | { kind: 'only_snapshots_in'; statuses: readonly string[] }
  /** No volume being created from this one (its data is still being copied). */
  | { kind: 'no_clones_in_progress' };

/** Why a condition did not hold, for the caller and the history. */
export interface VolumeConditionFailure {
  kind: VolumeCondition['kind'];
  /** The rows in the way: snapshots of the volume, or (no_clones_in_progress) volumes copying it. */
  snapshots: Array<{ id: string; status: string }>;
}

/** A new volume's source, held in its status while the create commits. */
export type VolumeSourceGuard =
  | { kind: 'snapshot'; id: string; statuses: readonly string[] }
  | { kind: 'volume'; id: string; statuses: readonly string[] };

/** A transfer row as a create writes it. */
export interface TransferInsert {
  id: string;
  displayName: string | null;
  salt: string;
  cryptHash: string;
  noSnapshots: boolean;
  sourceProjectId: string;
}

/** What a transfer event writes besides the volume's own step. */
export type TransferWrite =
  | { kind: 'create'; transfer: TransferInsert }
  /** The volume (and, unless noSnapshots, its snapshots) moves to the accepting project. */
  | { kind: 'accept'; transferId: string; projectId: string; userId: string; noSnapshots: boolean }
  | { kind: 'delete'; transferId: string };

/** One event's writes for one volume, committed in one transaction under its version guard. */
export interface VolumeStepWrite {
  volumeId: string;
  /** A new row (the create request); otherwise the row must still be at `fromVersion`. */
  insert?: VolumeIdentity & { createdAt: Date; /** The user metadata it is created with, in the same transaction. */ metadata?: Record<string, string> };
  /** A create from a source: the source must still be live and in one of its statuses. */
  sourceGuard?: VolumeSourceGuard;
  fromVersion: number;
  /** The row after an accepted event; absent for a refused one (only its history row is written). */
  update?: {
    version: number;
    updatedAt: Date;
    columns: VolumeStateColumns;
    /** Set by the driver's result; undefined leaves the column as it is. */
    providerLocation?: string | null;
    /** A retype's new type, written with the step; undefined leaves the column as it is. */
    volumeTypeId?: string;
    /** A finished extend's new size; undefined leaves the column as it is. */
    size?: number;
  };
  /** Keys of volume_admin_metadata to set (null removes), if the event is accepted. */
  adminMetadata?: Record<string, string | null>;
  /** A transfer's row, written with the step if the event is accepted. */
  transfer?: TransferWrite;
  history: VolumeHistoryRow;
  /** Written only if the event is accepted and its conditions hold. */
  outbox: Array<{ kind: string; phase: string; version: number; runAfter: Date; createdAt: Date }>;
  attach?: { id: string; instanceUuid: string | null; mountpoint: string; connectionInfo: string | null; at: Date };
  /** Closes the named attachment, or every live one (null). */
  detach?: { attachmentId: string | null; at: Date };
  conditions: VolumeCondition[];
  /**
   * The event left the volume in the phase it was in and asked for no effect (an admin's reset of
   * attach_status alone): the phase's pending jobs are still owed, and move to the new version
   * with it so that their results are not refused as stale.
   */
  carriesJobsOf?: string;
  /** An outbox job this event answers: closed in the same commit, done or cancelled. */
  closesJob?: { jobId: number; status: ClosedJobStatus; error?: string | null };
  /** What the step adds to its project's quota usage (a create, an extend): judged in the transaction. */
  quota?: QuotaDemand;
}

/** The columns that follow from the machine state (see state-columns.ts). */
export interface StateColumns {
  machineState: string;
  phase: string;
  status: string;
  progress: string;
  errorReason: string | null;
  deadlineAt: Date | null;
  phaseEnteredAt: Date;
  deleted: boolean;
  deletedAt: Date | null;
}

/** What a create request fixes about a snapshot (its machine state aside). */
export interface SnapshotIdentity {
  id: string;
  volumeId: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  volumeSize: number;
  /** A member snapshot of a group snapshot (the child of its machine). */
  groupSnapshotId?: string | null;
}

export interface SnapshotInsert {
  row: SnapshotIdentity & {
    version: number;
    createdAt: Date;
    updatedAt: Date;
  } & StateColumns;
  metadata: Record<string, string>;
  /** The volume must still be undeleted and in this status when the row is written. */
  volumeGuard?: { volumeId: string; status: string };
  /** What the snapshot adds to its project's quota usage: judged in the transaction that inserts it. */
  quota?: QuotaDemand;
}

/** One snapshot row moved from `fromVersion` to its state after every event of the batch. */
export interface SnapshotUpdate {
  id: string;
  fromVersion: number;
  version: number;
  updatedAt: Date;
  columns: StateColumns;
  /** Set by driver results; undefined leaves the column as it is. */
  providerLocation?: string | null;
  providerId?: string | null;
}

/** A history row as written (the database assigns the id). */
export type HistoryRow = Omit<SnapshotTransition, 'id'>;

export interface OutboxInsert {
  /** The snapshot the job works on; null for a volume's job. */
  snapshotId: string | null;
  /** The volume a volume's job works on (a snapshot's job reaches its volume through the snapshot). */
  volumeId?: string | null;
  kind: string;
  phase: string;
  version: number;
  runAfter: Date;
  createdAt: Date;
}

export interface AdminMetadataWrite {
  snapshotId: string;
  key: string;
  /** null soft-deletes the key. */
  value: string | null;
}

export interface VolumeWrite {
  snapshotId: string;
  volumeId: string;
  adminMetadata: Record<string, string | null>;
  connectionInfo?: Record<string, unknown>;
}

export interface JobClose {
  /** null: not tied to a snapshot's version guard (the job closes whatever the snapshot does). */
  snapshotId: string | null;
  jobId: number;
  status: ClosedJobStatus;
  error?: string | null;
}

/** Everything one group commit writes. */
export interface BatchWrites {
  inserts: SnapshotInsert[];
  updates: SnapshotUpdate[];
  history: HistoryRow[];
  outbox: OutboxInsert[];
  adminMetadata: AdminMetadataWrite[];
  volumeWrites: VolumeWrite[];
  jobCloses: JobClose[];
}

export const emptyWrites = (): BatchWrites => ({
  inserts: [],
  updates: [],
  history: [],
  outbox: [],
  adminMetadata: [],
  volumeWrites: [],
  jobCloses: [],
});
