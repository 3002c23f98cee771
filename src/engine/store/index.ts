// The SnapshotStore: the only code that reads or writes snapshot, history, outbox and admin
// metadata rows. One operation per file (as graphile-worker keeps its SQL); this class only binds
// them to one database and its dialect. The engine is its caller; the API reaches it through the
// engine.
import type { Db, Volume } from '../../db/client.js';
import { claimJobs } from './claim-jobs.js';
import { commitBatch } from './commit-batch.js';
import { dialectOf, type Dialect } from './dialect.js';
import { dueDeadlines, nextDeadline } from './due-deadlines.js';
import { handBackJob, releaseLeasesOf, releaseStrayLeases, type HandBack } from './hand-back-jobs.js';
import { loadJobContext } from './load-job-context.js';
import { loadMetadata } from './load-metadata.js';
import { loadSnapshots } from './load-snapshots.js';
import { loadVolumes } from './load-volumes.js';
import { ReadBatcher } from './read-batcher.js';
import { readHistory, snapshotOwner } from './read-history.js';
import type { BatchWrites, SnapshotRow } from './rows.js';
import { updateSnapshotFields } from './update-snapshot-fields.js';
import { volumeBusy } from './volume-busy.js';

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
  handBackJob = (h: HandBack) => handBackJob(this.prisma, h);
  releaseLeasesOf = (workerId: string) => releaseLeasesOf(this.prisma, workerId);
  releaseStrayLeases = (workerId: string, running: readonly number[]) => releaseStrayLeases(this.prisma, workerId, running);
  loadJobContext = (snapshotIds: readonly string[]) => loadJobContext(this.db.sql, this.dialect, snapshotIds);
  /** One volume (null: no such row, deleted or not); concurrent calls share one query. */
  findVolume = async (id: string) => (await this.volumes.load(id)) ?? null;
  volumeBusy = (jobId: number, snapshotId: string, volumeId: string) => volumeBusy(this.prisma, jobId, snapshotId, volumeId);
  dueDeadlines = (now: Date, limit: number) => dueDeadlines(this.prisma, now, limit);
  nextDeadline = () => nextDeadline(this.prisma);
  readHistory = (snapshotId: string) => readHistory(this.prisma, snapshotId);
  snapshotOwner = (snapshotId: string) => snapshotOwner(this.prisma, snapshotId);
  readAdminMetadata = async (snapshotId: string) =>
    (await loadMetadata(this.db.sql, this.dialect, 'snapshot_admin_metadata', [snapshotId])).get(snapshotId) ?? {};
  updateSnapshotFields = (id: string, fields: { name?: string | null; description?: string | null }) => updateSnapshotFields(this.prisma, id, fields);
}

export type { BatchWrites, SnapshotRow, JobRow, OutboxStatus, ClosedJobStatus } from './rows.js';
export type { JobContext } from './load-job-context.js';
