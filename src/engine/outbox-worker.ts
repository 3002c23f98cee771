// Runs the effects that committed transitions asked for, and turns each result into an event.
//
// Claiming is a compare-and-set on the lease columns (portable across SQLite and PostgreSQL):
// a worker takes a job only if it is pending and nobody holds an unexpired lease, so two
// workers never run the same job at once, and a job whose worker died (SIGKILL, power loss)
// becomes claimable again when its lease runs out. Effects are idempotent, so running one again
// after such a death is safe; the result is recorded together with the event it becomes.
import { randomUUID } from 'node:crypto';
import { assistedBeginEffects, computeEffectKinds, type EffectKind } from '../../machines/snapshot.js';
import { assistedInFlightPhases } from '../../machines/derive.js';
import type { ComputeClient } from '../compute/compute-client.js';
import {
  CREATE_INFO_KEY,
  DELETE_INFO_KEY,
  runDriverPhase,
  type DriverPhase,
  type SnapshotRef,
  type VolumeDriver,
} from '../drivers/driver.js';
import type { Engine } from './engine.js';
import { closeJob } from './record.js';
import type { Outcome } from './types.js';

export interface OutboxWorkerOptions {
  workerId?: string;
  /** How long a claim protects a running job; must exceed the slowest effect. */
  leaseMs?: number;
  /** A job claimed this many times without recording a result is given up as failed. */
  maxAttempts?: number;
  /** How long a begin phase waits before looking again while its volume is busy. */
  deferMs?: number;
}

export interface JobReport {
  jobId: number;
  snapshotId: string;
  kind: string;
  result: 'ran' | 'cancelled' | 'gave_up' | 'deferred';
  outcome?: Outcome;
}

export class OutboxWorker {
  readonly workerId: string;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly deferMs: number;

  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    private readonly compute: ComputeClient,
    options: OutboxWorkerOptions = {},
  ) {
    this.workerId = options.workerId ?? `worker-${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.deferMs = options.deferMs ?? 200;
  }

  private get prisma() {
    return this.engine.db.prisma;
  }

  /**
   * A worker with a stable id that starts up knows any lease under its name belongs to a dead
   * predecessor; freeing them now saves waiting for the leases to run out.
   */
  async releaseOwnLeases(): Promise<number> {
    const freed = await this.prisma.outboxJob.updateMany({
      where: { lockedBy: this.workerId, status: 'pending' },
      data: { lockedUntil: null, lockedBy: null },
    });
    return freed.count;
  }

  /** Claims one runnable job, or returns null when there is none. */
  async claim() {
    const now = this.engine.clock();
    const runnable = {
      status: 'pending',
      runAfter: { lte: now },
      OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }],
    };
    const candidates = await this.prisma.outboxJob.findMany({ where: runnable, orderBy: { id: 'asc' }, take: 5 });
    for (const job of candidates) {
      const taken = await this.prisma.outboxJob.updateMany({
        where: { id: job.id, ...runnable },
        data: {
          lockedBy: this.workerId,
          lockedUntil: new Date(now.getTime() + this.leaseMs),
          attempts: { increment: 1 },
        },
      });
      if (taken.count === 1) return { ...job, attempts: job.attempts + 1 };
    }
    return null;
  }

  /** Runs runnable jobs until none is left; returns what it did. */
  async drain(limit = Number.POSITIVE_INFINITY): Promise<JobReport[]> {
    const reports: JobReport[] = [];
    while (reports.length < limit) {
      const report = await this.runOne();
      if (!report) break;
      reports.push(report);
    }
    return reports;
  }

  async runOne(): Promise<JobReport | null> {
    const job = await this.claim();
    if (!job) return null;
    const base = { jobId: job.id, snapshotId: job.snapshotId, kind: job.kind };
    const now = () => this.engine.clock();
    const snapshot = await this.prisma.snapshot.findUnique({ where: { id: job.snapshotId }, include: { volume: true } });

    // The snapshot moved on (admin reset, force delete, timeout): the effect no longer applies,
    // and running it would act on a state nobody waits for.
    if (!snapshot || snapshot.phase !== job.phase) {
      await this.prisma.$transaction((tx) =>
        closeJob(tx, job.id, now(), 'cancelled', `snapshot left phase ${job.phase}${snapshot ? ` for ${snapshot.phase}` : ''}`),
      );
      return { ...base, result: 'cancelled' };
    }

    const kind = job.kind as EffectKind;
    const isCompute = computeEffectKinds.includes(kind);
    if (this.driver.exclusiveAssistedOperations && assistedBeginEffects.includes(kind) && (await this.volumeBusy(job.id, job.snapshotId, snapshot.volumeId))) {
      // Not an attempt: the claim is handed back and the job looks again a moment later.
      await this.prisma.outboxJob.updateMany({
        where: { id: job.id, lockedBy: this.workerId },
        data: { lockedBy: null, lockedUntil: null, attempts: { decrement: 1 }, runAfter: new Date(now().getTime() + this.deferMs) },
      });
      return { ...base, result: 'deferred' };
    }
    if (job.attempts > this.maxAttempts) {
      const reason = `gave up on ${kind} after ${job.attempts - 1} unfinished attempts`;
      const outcome = await this.engine.deliver({
        snapshotId: job.snapshotId,
        event: isCompute ? { type: 'compute.failed', phase: job.phase, reason } : { type: 'storage.failed', phase: job.phase, reason },
        source: isCompute ? 'compute' : 'driver',
        completesJob: job.id,
      });
      return { ...base, result: 'gave_up', outcome };
    }

    const adminMetadata = await this.adminMetadataOf(job.snapshotId);
    const ref: SnapshotRef = {
      id: snapshot.id,
      volumeId: snapshot.volumeId,
      volumeSize: snapshot.volumeSize,
      providerLocation: snapshot.providerLocation,
      providerId: snapshot.providerId,
      volume: {
        id: snapshot.volume.id,
        size: snapshot.volume.size,
        status: snapshot.volume.status,
        attachStatus: snapshot.volume.attachStatus,
        providerLocation: snapshot.volume.providerLocation,
      },
      adminMetadata,
    };

    let outcome: Outcome;
    try {
      if (isCompute) {
        await this.requestCompute(kind, ref);
        await this.engine.hooks.afterEffect?.({ snapshotId: job.snapshotId, kind, jobId: job.id });
        // Compute's acceptance is not a transition: its callback is. Only the job closes.
        await this.prisma.$transaction((tx) => closeJob(tx, job.id, now(), 'done'));
        return { ...base, result: 'ran' };
      }
      const result = await runDriverPhase(this.driver, kind as DriverPhase, ref);
      await this.engine.hooks.afterEffect?.({ snapshotId: job.snapshotId, kind, jobId: job.id });
      outcome = await this.engine.deliver({
        snapshotId: job.snapshotId,
        event: { type: 'storage.done', phase: job.phase, ...(result.skipCompute ? { skipCompute: true } : {}) },
        source: 'driver',
        writes: result,
        completesJob: job.id,
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      outcome = await this.engine.deliver({
        snapshotId: job.snapshotId,
        event: isCompute ? { type: 'compute.failed', phase: job.phase, reason } : { type: 'storage.failed', phase: job.phase, reason },
        source: isCompute ? 'compute' : 'driver',
        completesJob: job.id,
      });
    }
    return { ...base, result: 'ran', outcome };
  }

  /**
   * Whether another snapshot of the volume holds it: an earlier begin still pending, or an
   * operation past its begin and not yet complete. Read in that order: a begin's job closes in the
   * same commit that moves its snapshot on, so one of the two reads sees an operation in flight.
   *
   * For a driver with exclusiveAssistedOperations, assisted operations on one volume run one at a
   * time, from the begin phase until the snapshot has left its compute and complete phases, as
   * Cinder's RemoteFS driver holds the volume lock across the whole of create_snapshot /
   * delete_snapshot, Nova's part included. Two operations in flight at once would both plan against
   * the same active file: the second overlay would sit on a file the VM no longer writes to
   * (compute refuses it), and a second delete would hand compute a merge planned on a chain that
   * has changed since. A begin whose volume is busy waits, in the order the requests came (job ids).
   */
  private async volumeBusy(jobId: number, snapshotId: string, volumeId: string): Promise<boolean> {
    const earlier = await this.prisma.outboxJob.findFirst({
      where: { id: { lt: jobId }, status: 'pending', kind: { in: [...assistedBeginEffects] }, snapshot: { volumeId, deleted: false, id: { not: snapshotId } } },
      select: { id: true },
    });
    if (earlier) return true;
    const holder = await this.prisma.snapshot.findFirst({
      where: { volumeId, deleted: false, id: { not: snapshotId }, phase: { in: [...assistedInFlightPhases] } },
      select: { id: true },
    });
    return holder !== null;
  }

  private async requestCompute(kind: EffectKind, ref: SnapshotRef) {
    const key = kind === 'requestComputeCreate' ? CREATE_INFO_KEY : DELETE_INFO_KEY;
    const raw = ref.adminMetadata[key];
    if (!raw) throw new Error(`driver ${this.driver.name} left no ${key} for compute`);
    const info = JSON.parse(raw) as Record<string, unknown>;
    if (kind === 'requestComputeCreate') await this.compute.requestCreate(ref.volumeId, info);
    else await this.compute.requestDelete(ref.id, info);
  }

  private async adminMetadataOf(snapshotId: string): Promise<Record<string, string>> {
    const rows = await this.prisma.snapshotAdminMetadata.findMany({ where: { snapshotId, deleted: false } });
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
}
