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
import * as groups from './groups.js';
import { historySince, lastHistoryId } from './history-since.js';
import { usagePerProject } from './host-usage.js';
import { countSnapshotRows, countVolumeRows, listSnapshotPage, listVolumePage, type SnapshotPageQuery, type VolumePageQuery } from './list-page.js';
import { loadJobContext } from './load-job-context.js';
import { loadMetadata } from './load-metadata.js';
import { loadSnapshots } from './load-snapshots.js';
import { loadVolumes } from './load-volumes.js';
import { deleteMessage, findMessage, insertMessage, listMessages, type MessageRow } from './messages.js';
import { oldestDueJobs } from './oldest-due-jobs.js';
import { ownedIds } from './owned-ids.js';
import { deleteProjectLimits, readClassLimits, readProjectLimits, readUsage, writeLimits, type QuotaLimits } from './quota.js';
import { ReadBatcher } from './read-batcher.js';
import { acceptedHistoryBefore, readHistory, snapshotOwner } from './read-history.js';
import { readAttention, type AttentionQuery } from './read-attention.js';
import { readOverview } from './read-overview.js';
import { readSnapshotWindow, type SnapshotWindowQuery } from './read-snapshot-window.js';
import { readVolume } from './read-volume.js';
import { readVolumeSummary } from './volume-summary.js';
import { readVolumeHistory, volumeOwner } from './read-volume-history.js';
import type { BatchWrites, SnapshotRow, VolumeFields, VolumeStepWrite } from './rows.js';
import { pendingJobsPerKind, snapshotsPerPhase } from './scrape-counts.js';
import { heartbeatService, listServices, setFrozen, updateServiceFlags, type ServiceFlags, type ServiceIdentityRow } from './services.js';
import { updateSnapshotFields } from './update-snapshot-fields.js';
import { updateVolumeFields } from './update-volume-fields.js';
import { listTransfers, readTransfer, withdrawTransfer } from './transfers.js';
import { takeVolumeTurn, type VolumeTurn } from './volume-busy.js';
import { liveSnapshotsOf, volumesCreatingFromSnapshot } from './volume-dependents.js';
import { volumeStamp } from './volume-stamp.js';
import * as qos from './qos-specs.js';
import * as types from './volume-types.js';
import { deleteUserMetadataKey, setUserMetadata, writeVolumeAdminMetadata } from './write-user-metadata.js';
import type { UserMetadataTable } from './key-values.js';

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
  /** A snapshot's or a volume's user metadata: merged, or replaced (see write-user-metadata.ts). */
  setUserMetadata = (table: UserMetadataTable, ownerId: string, metadata: Record<string, string>, replace: boolean, now: Date, maxItems: number) =>
    setUserMetadata(this.db, this.dialect, table, ownerId, metadata, replace, now, maxItems);
  deleteUserMetadataKey = (table: UserMetadataTable, ownerId: string, key: string, now: Date) => deleteUserMetadataKey(this.db, this.dialect, table, ownerId, key, now);
  /** Live keys of a volume's user metadata, or of its admin metadata. */
  readVolumeMetadata = async (volumeId: string, table: 'volume_metadata' | 'volume_admin_metadata' = 'volume_metadata') =>
    (await loadMetadata(this.db.sql, this.dialect, table, [volumeId])).get(volumeId) ?? {};
  /** Sets (or, with null, removes) keys of a volume's admin metadata. */
  writeVolumeAdminMetadata = (volumeId: string, values: Record<string, string | null>, now: Date) => writeVolumeAdminMetadata(this.db, this.dialect, volumeId, values, now);
  listSnapshots = (q: SnapshotPageQuery) => listSnapshotPage(this.prisma, q);
  countSnapshots = (q: SnapshotPageQuery) => countSnapshotRows(this.prisma, q);

  // Volumes and their attachments.
  /** One volume with its live attachments (null: no such row, deleted or not). */
  readVolume = (id: string) => readVolume(this.prisma, id);
  listVolumes = (q: VolumePageQuery) => listVolumePage(this.prisma, q);
  countVolumes = (q: VolumePageQuery) => countVolumeRows(this.prisma, q);
  /** Count, total size and distinct metadata of the live volumes of a project (null: all). */
  readVolumeSummary = (projectId: string | null) => readVolumeSummary(this.prisma, projectId);
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

  // Quotas (quota.ts): limits are rows, usage is counted from the volumes and snapshots.
  readProjectQuotas = (projectId: string) => readProjectLimits(this.db.sql, this.dialect, projectId);
  readClassQuotas = (className: string) => readClassLimits(this.db.sql, this.dialect, className);
  readQuotaUsage = (projectId: string) => readUsage(this.db.sql, this.dialect, projectId);
  writeProjectQuotas = (projectId: string, limits: QuotaLimits, now: Date) => writeLimits(this.db.sql, this.dialect, 'quotas', projectId, limits, now);
  writeClassQuotas = (className: string, limits: QuotaLimits, now: Date) => writeLimits(this.db.sql, this.dialect, 'quota_classes', className, limits, now);
  deleteProjectQuotas = (projectId: string) => deleteProjectLimits(this.db.sql, this.dialect, projectId);
  // Group types, groups and group snapshots (groups.ts); their steps go through the engine's
  // ParentCommitter.
  readonly groups = {
    findGroupType: (id: string) => groups.findGroupType(this.prisma, id),
    findGroupTypeByName: (name: string) => groups.findGroupTypeByName(this.prisma, name),
    listGroupTypes: (where: { isPublic?: boolean }) => groups.listGroupTypes(this.prisma, where),
    insertGroupType: (row: Parameters<typeof groups.insertGroupType>[1], now: Date) => groups.insertGroupType(this.prisma, row, now),
    updateGroupType: (id: string, fields: Parameters<typeof groups.updateGroupType>[2]) => groups.updateGroupType(this.prisma, id, fields),
    deleteGroupType: (id: string, now: Date) => groups.deleteGroupType(this.prisma, id, now),
    setGroupSpecs: (id: string, specs: Record<string, string>, now: Date) => groups.setGroupSpecs(this.prisma, id, specs, now),
    deleteGroupSpec: (id: string, key: string) => groups.deleteGroupSpec(this.prisma, id, key),
    findGroup: (id: string) => groups.findGroup(this.prisma, id),
    listGroups: (projectId: string | null) => groups.listGroups(this.prisma, projectId),
    groupMembers: (groupId: string) => groups.groupMembers(this.prisma, groupId),
    liveSnapshotsOf: (volumeId: string) => groups.liveSnapshotsOf(this.prisma, volumeId),
    findGroupSnapshot: (id: string) => groups.findGroupSnapshot(this.prisma, id),
    listGroupSnapshots: (projectId: string | null) => groups.listGroupSnapshots(this.prisma, projectId),
    liveGroupSnapshotsOf: (groupId: string) => groups.liveGroupSnapshotsOf(this.prisma, groupId),
    groupSnapshotChildren: (id: string) => groups.groupSnapshotChildren(this.prisma, id),
    dueGroupSnapshots: (now: Date, limit: number) => groups.dueGroupSnapshots(this.prisma, now, limit),
    waitingGroupSnapshots: (limit: number) => groups.waitingGroupSnapshots(this.prisma, limit),
    waitingGroups: (phases: readonly string[], limit: number) => groups.waitingGroups(this.prisma, phases, limit),
    history: (subject: groups.ParentSubject, id: string) => groups.readParentHistory(this.prisma, subject, id),
  };

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

  // Volume types and QoS specs (plain rows, no machine; see volume-types.ts, qos-specs.ts).
  readonly volumeTypes = {
    find: (id: string, viewer?: types.TypeViewer) => types.findVolumeType(this.prisma, id, viewer),
    findByName: (name: string, viewer?: types.TypeViewer) => types.findVolumeTypeByName(this.prisma, name, viewer),
    list: (q: types.VolumeTypeListQuery) => types.listVolumeTypes(this.prisma, q),
    create: (t: types.NewVolumeType) => types.createVolumeType(this.prisma, t),
    update: (id: string, fields: { name?: string; description?: string | null; isPublic?: boolean }) => types.updateVolumeType(this.prisma, id, fields),
    delete: (id: string, now: Date) => types.deleteVolumeType(this.prisma, id, now),
    inUse: (id: string) => types.volumeTypeInUse(this.prisma, id),
    setExtraSpecs: (id: string, specs: Record<string, string>) => types.setExtraSpecs(this.prisma, id, specs),
    deleteExtraSpec: (id: string, key: string, now: Date) => types.deleteExtraSpec(this.prisma, id, key, now),
    projects: (id: string) => types.listTypeProjects(this.prisma, id),
    addProject: (id: string, projectId: string) => types.addTypeProject(this.prisma, id, projectId),
    removeProject: (id: string, projectId: string, now: Date) => types.removeTypeProject(this.prisma, id, projectId, now),
    encryption: (id: string) => types.findEncryption(this.prisma, id),
    createEncryption: (id: string, encryptionId: string, fields: Required<types.EncryptionFields>) => types.createEncryption(this.prisma, id, encryptionId, fields),
    updateEncryption: (id: string, fields: types.EncryptionFields) => types.updateEncryption(this.prisma, id, fields),
    deleteEncryption: (id: string, now: Date) => types.deleteEncryption(this.prisma, id, now),
  };
  readonly qosSpecs = {
    find: (id: string) => qos.findQosSpecs(this.prisma, id),
    list: () => qos.listQosSpecs(this.prisma),
    create: (q: { id: string; name: string; consumer: string; specs: Record<string, string> }) => qos.createQosSpecs(this.prisma, q),
    setKeys: (id: string, specs: Record<string, string>, consumer: string | undefined) => qos.setQosKeys(this.prisma, id, specs, consumer),
    deleteKeys: (id: string, keys: readonly string[], now: Date) => qos.deleteQosKeys(this.prisma, id, keys, now),
    associations: (id: string) => qos.qosAssociations(this.prisma, id),
    associate: (id: string, volumeTypeId: string) => qos.associateQos(this.prisma, id, volumeTypeId),
    disassociate: (id: string, volumeTypeId: string) => qos.disassociateQos(this.prisma, id, volumeTypeId),
    disassociateAll: (id: string) => qos.disassociateAllQos(this.prisma, id),
    delete: (id: string, force: boolean, now: Date) => qos.deleteQosSpecs(this.prisma, id, force, now),
  };
  // Operator resources: services and their heartbeats, the backend's usage, user messages.
  heartbeatService = (s: ServiceIdentityRow, now: Date) => heartbeatService(this.prisma, s, now);
  listServices = () => listServices(this.prisma);
  updateServiceFlags = (host: string, binary: string, flags: ServiceFlags, now: Date) => updateServiceFlags(this.prisma, host, binary, flags, now);
  setServiceFrozen = (host: string, binary: string, frozen: boolean, now: Date) => setFrozen(this.prisma, host, binary, frozen, now);
  usagePerProject = () => usagePerProject(this.prisma);
  insertMessage = (m: MessageRow) => insertMessage(this.prisma, m);
  listMessages = (projectId: string | null, now: Date) => listMessages(this.prisma, projectId, now);
  findMessage = (id: string, now: Date) => findMessage(this.prisma, id, now);
  deleteMessage = (id: string, now: Date) => deleteMessage(this.prisma, id, now);
}

export type { VolumeConditionFailure, VolumeStepWrite, BatchWrites, SnapshotRow, JobRow, OutboxStatus, ClosedJobStatus, SnapshotWithMetadata, VolumeRow, VolumeWithAttachments } from './rows.js';
export type { UserMetadataTable } from './key-values.js';
export type { VolumeSummary } from './volume-summary.js';
export type { SnapshotPageQuery, SnapshotSortColumn, SnapshotFilterColumn, VolumePageQuery, VolumeSortColumn, VolumeFilterColumn } from './list-page.js';
export type { SnapshotWindowQuery, SnapshotWindow } from './read-snapshot-window.js';
export type { AttentionQuery } from './read-attention.js';
export type { VolumeStepResult } from './commit-volume-step.js';
export { DEFAULT_VOLUME_TYPE_ID, DEFAULT_VOLUME_TYPE_NAME, type VolumeTypeRow, type TypeViewer, type EncryptionFields } from './volume-types.js';
export type { QosSpecsRow } from './qos-specs.js';
export { DEFAULT_QUOTA_CLASS, QUOTA_RESOURCES, PER_TYPE_RESOURCES, perTypeResource, type QuotaDemand, type QuotaLimits, type QuotaOver, type QuotaRefusal, type QuotaResource, type QuotaUsage } from './quota.js';
export type { JobContext } from './load-job-context.js';
export type { ServiceRow, ServiceIdentityRow, ServiceFlags } from './services.js';
export type { MessageRow } from './messages.js';
export type { ProjectUsage } from './host-usage.js';
export type { GroupRow, GroupSnapshotRow, GroupTypeRow, ParentSubject } from './groups.js';
export type { TransferRow } from './transfers.js';
export type { TransferWrite, TransferInsert } from './rows.js';
