// The SnapshotStore: the only code that reads or writes rows (snapshots, their history, outbox,
// metadata, volumes and their attachments). One operation per file (as graphile-worker keeps its
// SQL); this class only binds them to one database and its dialect. The engine is its caller;
// the manager and the observers reach it through the engine.
import type { Db, Volume } from '../../db/client.js';
import { claimJobs } from './claim-jobs.js';
import { commitBatch } from './commit-batch.js';
import { commitVolumeStep } from './commit-volume-step.js';
import { dialectOf, type Dialect } from './dialect.js';
import { claimDueDeadlines, nextDeadline } from './due-deadlines.js';
import { handBackJob, releaseLeasesOf, releaseStrayLeases, type HandBack } from './hand-back-jobs.js';
import { historySince, lastHistoryId } from './history-since.js';
import { listSnapshotPage, listVolumePage, type SnapshotPageQuery, type VolumePageQuery } from './list-page.js';
import { loadJobContext } from './load-job-context.js';
import { loadMetadata } from './load-metadata.js';
import { loadSnapshots } from './load-snapshots.js';
import { loadVolumes } from './load-volumes.js';
import { oldestDueJobs } from './oldest-due-jobs.js';
import { ownedIds } from './owned-ids.js';
import { ReadBatcher } from './read-batcher.js';
import { acceptedHistoryBefore, readHistory, snapshotOwner } from './read-history.js';
import { readAttention, type AttentionQuery } from './read-attention.js';
import { readOverview } from './read-overview.js';
import { readSnapshotWindow, type SnapshotWindowQuery } from './read-snapshot-window.js';
import { readVolume } from './read-volume.js';
import { readVolumeHistory, volumeOwner } from './read-volume-history.js';
import type { BatchWrites, SnapshotRow, VolumeFields, VolumeStepWrite } from './rows.js';
import { pendingJobsPerKind, snapshotsPerPhase } from './scrape-counts.js';
import { updateSnapshotFields } from './update-snapshot-fields.js';
import { updateVolumeFields } from './update-volume-fields.js';
import { listTransfers, readTransfer, withdrawTransfer } from './transfers.js';
import { takeVolumeTurn, type VolumeTurn } from './volume-busy.js';
import { liveSnapshotsOf, volumesCreatingFromSnapshot } from './volume-dependents.js';
import { volumeStamp } from './volume-stamp.js';
import { deleteSnapshotMetadataKey, setSnapshotMetadata } from './write-snapshot-metadata.js';

export class SnapshotStore {
  readonly dialect: Dialect;
  private readonly snapshots: ReadBatcher<string, SnapshotRow>;
  private readonly metadata: ReadBatcher<string, Record<string, string>>;
  private readonly volumes: ReadBatcher<string, Volume>;

  constructor(readonly db: Db) {
    this.dialect = dialectOf(db.provider);
    this.snapshots = new ReadBatcher((ids) => loadSnapshots(this.db.sql, ids));
    this.metadata = new ReadBatcher((ids) => loadMetadata(this.db.sql, this.dialect, 'snapshot_metadata', ids));
    this.volumes = new ReadBatcher((ids) => loadVolumes(this.db.sql, ids));
  }

  private get prisma() {
    return this.db.prisma;
  }

  loadSnapshots = (ids: readonly string[]) => loadSnapshots(this.db.sql, ids);
  /** One snapshot (null: no such row, deleted or not); concurrent calls share one query. */
  findSnapshot = async (id: string): Promise<SnapshotRow | null> => (await this.snapshots.load(id)) ?? null;
  /** One snapshot's user metadata; concurrent calls share one query. */
  readMetadata = async (id: string): Promise<Record<string, string>> => (await this.metadata.load(id)) ?? {};
  commitBatch = (w: BatchWrites, now: Date, beforeCommit?: (lost: ReadonlySet<string>) => Promise<void>) =>
    commitBatch(this.db, this.dialect, w, now, beforeCommit);
  claimJobs = (workerId: string, limit: number, now: Date, leaseMs: number) => claimJobs(this.db, this.dialect, workerId, limit, now, leaseMs);
  /** `now`: the caller's clock, to tell a job freed to run at once (announced to other instances). */
  handBackJob = (h: HandBack, now: Date) => handBackJob(this.db, this.dialect, h, now);
  releaseLeasesOf = (workerId: string) => releaseLeasesOf(this.prisma, this.dialect, workerId);
  releaseStrayLeases = (workerId: string, running: readonly number[]) => releaseStrayLeases(this.prisma, this.dialect, workerId, running);
  loadJobContext = (snapshotIds: readonly string[]) => loadJobContext(this.db.sql, this.dialect, snapshotIds);
  /** One volume (null: no such row, deleted or not); concurrent calls share one query. */
  findVolume = async (id: string) => (await this.volumes.load(id)) ?? null;
  loadVolumes = (ids: readonly string[]) => loadVolumes(this.db.sql, ids);
  takeVolumeTurn = (t: VolumeTurn) => takeVolumeTurn(this.db, this.dialect, t);
  claimDueDeadlines = (now: Date, limit: number, leaseMs: number) => claimDueDeadlines(this.db, this.dialect, now, limit, leaseMs);
  nextDeadline = () => nextDeadline(this.prisma);
  readHistory = (snapshotId: string) => readHistory(this.prisma, snapshotId);
  snapshotOwner = (snapshotId: string) => snapshotOwner(this.prisma, snapshotId);
  readAdminMetadata = async (snapshotId: string) =>
    (await loadMetadata(this.db.sql, this.dialect, 'snapshot_admin_metadata', [snapshotId])).get(snapshotId) ?? {};
  updateSnapshotFields = (id: string, fields: { name?: string | null; description?: string | null }) => updateSnapshotFields(this.prisma, id, fields);
  setSnapshotMetadata = (snapshotId: string, metadata: Record<string, string>, replace: boolean, now: Date, maxItems: number) =>
    setSnapshotMetadata(this.db, this.dialect, snapshotId, metadata, replace, now, maxItems);
  deleteSnapshotMetadataKey = (snapshotId: string, key: string, now: Date) => deleteSnapshotMetadataKey(this.db, this.dialect, snapshotId, key, now);
  listSnapshots = (q: SnapshotPageQuery) => listSnapshotPage(this.prisma, q);

  // Volumes and their attachments.
  /** One volume with its live attachments (null: no such row, deleted or not). */
  readVolume = (id: string) => readVolume(this.prisma, id);
  listVolumes = (q: VolumePageQuery) => listVolumePage(this.prisma, q);
  /** Name and description, outside the machine. */
  updateVolumeFields = (id: string, fields: VolumeFields) => updateVolumeFields(this.prisma, id, fields);
  /** One event of a volume's machine, in one transaction (see commit-volume-step.ts). */
  commitVolumeStep = (w: VolumeStepWrite, beforeCommit?: () => Promise<void>) => commitVolumeStep(this.db, this.dialect, w, beforeCommit);
  readVolumeHistory = (volumeId: string) => readVolumeHistory(this.prisma, volumeId);
  readVolumeAdminMetadata = async (volumeId: string) =>
    (await loadMetadata(this.db.sql, this.dialect, 'volume_admin_metadata', [volumeId])).get(volumeId) ?? {};
  /** The volume's live snapshots (what a cascade delete takes first). */
  liveSnapshotsOf = (volumeId: string) => liveSnapshotsOf(this.db.sql, this.dialect, volumeId);
  /** Volumes still being copied from the snapshot. */
  volumesCreatingFromSnapshot = (snapshotId: string) => volumesCreatingFromSnapshot(this.db.sql, this.dialect, snapshotId);
  readTransfer = (id: string) => readTransfer(this.db.sql, this.dialect, id);
  listTransfers = (projectId: string | null) => listTransfers(this.db.sql, this.dialect, projectId);
  withdrawTransfer = (id: string, at: Date = new Date()) => withdrawTransfer(this.db.sql, this.dialect, id, at);
  volumeOwner = (volumeId: string) => volumeOwner(this.prisma, volumeId);

  // What the observers read: the UI's overview, the history as a feed, the counts metrics scrape.
  readOverview = (projectId: string | null) => readOverview(this.prisma, projectId);
  /** The UI's snapshot list, one keyset page at a time (null: `after` names no snapshot). */
  readSnapshotWindow = (q: SnapshotWindowQuery) => readSnapshotWindow(this.prisma, q);
  /** The UI's needs-attention view. */
  readAttention = (q: AttentionQuery) => readAttention(this.prisma, q);
  lastHistoryId = () => lastHistoryId(this.prisma);
  historySince = (after: number, skip: readonly number[], limit: number) => historySince(this.prisma, after, skip, limit);
  acceptedHistoryBefore = (snapshotId: string, beforeId: number) => acceptedHistoryBefore(this.prisma, snapshotId, beforeId);
  volumeStamp = () => volumeStamp(this.prisma);
  snapshotsPerPhase = () => snapshotsPerPhase(this.prisma);
  pendingJobsPerKind = () => pendingJobsPerKind(this.prisma);
  /** Per effect kind, when its oldest pending job became due: the outbox's lag. */
  oldestDueJobs = (now: Date) => oldestDueJobs(this.prisma, now);
  /** Ids of every live volume and snapshot, for the orphan scan. */
  ownedIds = () => ownedIds(this.prisma);
}

export type { VolumeConditionFailure, VolumeStepWrite, BatchWrites, SnapshotRow, JobRow, OutboxStatus, ClosedJobStatus, SnapshotWithMetadata, VolumeRow, VolumeWithAttachments } from './rows.js';
export type { SnapshotPageQuery, SnapshotSortColumn, SnapshotFilterColumn, VolumePageQuery, VolumeSortColumn, VolumeFilterColumn } from './list-page.js';
export type { SnapshotWindowQuery, SnapshotWindow } from './read-snapshot-window.js';
export type { AttentionQuery } from './read-attention.js';
export type { VolumeStepResult } from './commit-volume-step.js';
export type { JobContext } from './load-job-context.js';
export type { TransferRow } from './transfers.js';
export type { TransferWrite, TransferInsert } from './rows.js';
