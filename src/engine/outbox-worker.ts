// Runs the effects that committed transitions asked for, and turns each result into an event.
//
// Jobs are claimed in batches (store/claim-jobs.ts) under a lease: a worker that dies lets its
// leases run out and another takes the jobs over; effects are idempotent, so running one again
// after such a death is safe. A result is delivered with the version its job was queued at, so a
// result from an abandoned visit to a phase is refused instead of moving a snapshot that has
// since gone elsewhere.
//
// Two kinds of failure are kept apart. An effect that fails in a way worth retrying (an EIO, a
// lock timeout: see transient.ts) is run again later with exponential backoff, and only a definite
// refusal (or running out of attempts) fails the snapshot. A database fault while recording a
// result is never the snapshot's failure: the result is kept and recording is retried while this
// worker lives; if it dies, the lease runs out and the job runs again.
//
// An effect cut short (a qemu-img child killed by a signal: see isInterrupted) is no answer either.
// While the process shuts down, such an effect, or one that failed in a passing way (the
// embedded compute agent no longer listening), is handed back at once without counting as an
// attempt, so the next start runs it first thing; at any other time it is retried like a passing
// fault.
import { randomUUID } from 'node:crypto';
import { assistedBeginEffects, computeEffectKinds, type EffectKind, type SnapshotContext } from '../../machines/snapshot.js';
import type { VolumeEffectKind, VolumeEvent } from '../../machines/volume.js';
import { PAUSE_GUEST_CREATE_INFO_KEY, type ComputeClient, type GuestResumeResult } from '../compute/compute-client.js';
import {
  CREATE_INFO_KEY,
  DELETE_INFO_KEY,
  RECONCILE_EVIDENCE_KEY,
  RECONCILE_VERDICT_KEY,
  runDriverPhase,
  type DriverPhase,
  type PhaseResult,
  type SnapshotRef,
  type VolumeDriver,
} from '../drivers/driver.js';
import type { SnapshotEvent } from '../../machines/snapshot.js';
import type { Engine } from './engine.js';
import type { JobContext, JobRow } from './store/index.js';
import { backoffMs, isInterrupted, isTransient } from './transient.js';
import type { Outcome } from './types.js';
import type { VolumeOutcome } from './volume-committer.js';
import type { Volume } from '../db/client.js';

/** The first phase of a snapshot's delete, offline or assisted: where it waits for copies of the snapshot. */
const SNAPSHOT_DELETE_STARTS: readonly EffectKind[] = ['deleteSnapshot', 'deleteSnapshotAssistedBegin'];

/** Volume admin metadata key holding an extend's target size until it is done (Cinder's name). */
export const EXTEND_NEW_SIZE_KEY = 'extend_new_size';

export interface OutboxWorkerOptions {
  workerId?: string;
  /** How long a claim protects a running job; must exceed the slowest effect. */
  leaseMs: number;
  /** A job claimed this many times (crashes and retried failures alike) is given up as failed. */
  maxAttempts?: number;
  /** How long a begin phase waits before looking again while its volume is busy. */
  deferMs?: number;
  /** First retry delay after a transient failure; doubled each attempt up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Pause before retrying to record a result the database refused; doubles up to 2 s. */
  recordRetryMs?: number;
  /** Called when recording a result failed and will be retried. */
  onRecordRetry?: (err: unknown) => void;
  /** Called when an effect cut short by the stop has been handed back. */
  onInterrupted?: (report: JobReport, reason: string) => void;
  /** Called when compute answered a guest resume (resumeGuest), and when one failed and will be retried. */
  onGuestResume?: (info: { snapshotId: string; volumeId: string | null; result?: GuestResumeResult; error?: string }) => void;
}

export interface JobReport {
  jobId: number;
  /** The machine whose job it was: a snapshot's, or a volume's. */
  snapshotId?: string;
  volumeId?: string;
  kind: string;
  result: 'ran' | 'cancelled' | 'gave_up' | 'deferred' | 'retrying' | 'interrupted';
  outcome?: Outcome | VolumeOutcome;
}

/** What running one job means for its machine: the effect, and the events its answers become. */
interface JobPlan {
  base: Pick<JobReport, 'jobId' | 'snapshotId' | 'volumeId' | 'kind'>;
  effect: () => Promise<void>;
  fail: (reason: string) => Promise<Outcome | VolumeOutcome>;
  done: () => Promise<Outcome | VolumeOutcome | null>;
}

export class OutboxWorker {
  readonly workerId: string;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly deferMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly recordRetryMs: number;
  private stopping = false;
  private shuttingDown = false;

  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    private readonly compute: ComputeClient,
    private readonly options: OutboxWorkerOptions,
  ) {
    this.workerId = options.workerId ?? `worker-${randomUUID()}`;
    this.leaseMs = options.leaseMs;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.deferMs = options.deferMs ?? 200;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.recordRetryMs = options.recordRetryMs ?? 50;
  }

  private get store() {
    return this.engine.store;
  }

  /** Stops retrying to record results (the process is going away; leases take over). */
  stop() {
    this.stopping = true;
  }

  /** The process is stopping: from now on an effect cut short is handed back, not retried here. */
  beginShutdown() {
    this.shuttingDown = true;
  }

  /**
   * A worker with a stable id that starts up knows any lease under its name belongs to a dead
   * predecessor; freeing them now saves waiting for the leases to run out.
   */
  releaseOwnLeases(): Promise<number> {
    return this.store.releaseLeasesOf(this.workerId);
  }

  /** Frees leases this worker holds on jobs it is not running (see releaseStrayLeases). */
  releaseStrayLeases(running: readonly number[]): Promise<number> {
    return this.store.releaseStrayLeases(this.workerId, running);
  }

  /** Claims one runnable job, or returns null when there is none. */
  async claim(): Promise<JobRow | null> {
    return (await this.claimBatch(1))[0] ?? null;
  }

  claimBatch(limit: number): Promise<JobRow[]> {
    return this.store.claimJobs(this.workerId, limit, this.engine.clock(), this.leaseMs);
  }

  /** Runs runnable jobs one at a time until none is left; returns what it did, in order. */
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
    const [started] = await this.startClaimed([job]);
    return started!.done;
  }

  /** Claims up to `limit` jobs, reads what they need in one query, and starts them all. */
  async startBatch(limit: number): Promise<Array<{ job: JobRow; done: Promise<JobReport> }>> {
    const jobs = await this.claimBatch(limit);
    if (jobs.length === 0) return [];
    return this.startClaimed(jobs);
  }

  private async startClaimed(jobs: JobRow[]): Promise<Array<{ job: JobRow; done: Promise<JobReport> }>> {
    const snapshotIds = jobs.flatMap((j) => (j.snapshotId !== null ? [j.snapshotId] : []));
    const volumeIds = jobs.flatMap((j) => (j.volumeId !== null ? [j.volumeId] : []));
    const context = snapshotIds.length > 0 ? await this.store.loadJobContext(snapshotIds) : new Map<string, JobContext>();
    const volumes = volumeIds.length > 0 ? await this.store.loadVolumes(volumeIds) : new Map<string, Volume>();
    return jobs.map((job) => ({
      job,
      done: job.volumeId !== null ? this.runVolumeJob(job, volumes.get(job.volumeId)) : this.run(job, context.get(job.snapshotId!)),
    }));
  }

  async run(job: JobRow, snapshot: JobContext | undefined): Promise<JobReport> {
    const snapshotId = job.snapshotId!;
    const base = { jobId: job.id, snapshotId, kind: job.kind };
    const kind = job.kind as EffectKind;
    if (kind === 'resumeGuest') return this.runResume(job, snapshot);
    const isCompute = computeEffectKinds.includes(kind);

    // The snapshot moved on (admin reset, force delete, timeout): the effect no longer applies,
    // and running it would act on a state nobody waits for. A driver phase belongs to the very
    // visit that queued it; a compute request to its phase (in-progress callbacks move the version).
    const moved = !snapshot || snapshot.phase !== job.phase || (!isCompute && snapshot.version !== job.version);
    if (moved) {
      const where = snapshot ? ` for ${snapshot.phase} (version ${snapshot.version})` : '';
      await this.record(() => this.engine.closeJob(job.id, 'cancelled', `snapshot left phase ${job.phase} (version ${job.version})${where}`));
      return { ...base, result: 'cancelled' };
    }

    // Cinder's volume manager holds the snapshot's lock across a create from it and its delete:
    // a delete accepted while volumes are still being copied from the snapshot waits for them.
    // The copy's create held the snapshot available when it committed, so any copy that started
    // before the delete is seen here.
    if (SNAPSHOT_DELETE_STARTS.includes(kind) && (await this.store.volumesCreatingFromSnapshot(snapshotId)).length > 0) {
      const now = this.engine.clock();
      await this.record(() => this.store.handBackJob({ jobId: job.id, workerId: this.workerId, runAfter: this.later(this.deferDelay(job, now)), uncount: true }, now));
      return { ...base, result: 'deferred' };
    }
    if (this.driver.exclusiveAssistedOperations && assistedBeginEffects.includes(kind) && !(await this.takeVolumeTurn(job, snapshotId, snapshot.volumeId))) {
      // Not an attempt: the claim was handed back and the job looks again a moment later.
      return { ...base, result: 'deferred' };
    }
    const ref = snapshotRef(snapshot);
    let result: Awaited<ReturnType<typeof runDriverPhase>> | undefined;
    return this.execute(job, {
      base,
      effect: async () => {
        if (isCompute) await this.requestCompute(kind, ref, pauseRequested(snapshot));
        else result = await runDriverPhase(this.driver, kind as DriverPhase, ref);
      },
      fail: (reason) =>
        this.engine.deliver({
          snapshotId,
          event: isCompute ? { type: 'compute.failed', phase: job.phase, reason } : { type: 'storage.failed', phase: job.phase, reason },
          source: isCompute ? 'compute' : 'driver',
          completesJob: job.id,
          ...(isCompute ? {} : { expectedVersion: job.version }),
        }),
      done: async () => {
        // Compute's acceptance is not a transition: its callback is. Only the job closes.
        if (isCompute) {
          await this.engine.closeJob(job.id, 'done');
          return null;
        }
        return this.engine.deliver({
          snapshotId,
          event: resultEvent(job.phase, result!),
          source: 'driver',
          writes: resultWrites(result!),
          completesJob: job.id,
          expectedVersion: job.version,
        });
      },
    });
  }

  /**
   * A volume machine's job: the driver creates (blank, or from its source), extends or deletes the
   * volume, and the answer is the machine's next event, bound to the version that queued the job.
   */
  async runVolumeJob(job: JobRow, volume: Volume | undefined): Promise<JobReport> {
    const volumeId = job.volumeId!;
    const base = { jobId: job.id, volumeId, kind: job.kind };
    if (!volume || volume.phase !== job.phase || volume.version !== job.version) {
      const where = volume ? ` for ${volume.phase} (version ${volume.version})` : '';
      await this.record(() => this.engine.closeJob(job.id, 'cancelled', `volume left phase ${job.phase} (version ${job.version})${where}`));
      return { ...base, result: 'cancelled' };
    }
    const kind = job.kind as VolumeEffectKind;
    const deliver = (event: VolumeEvent, extra: { providerLocation?: string | null; size?: number; adminMetadata?: Record<string, string | null> } = {}) =>
      this.engine.volumes.deliver({ volumeId, event, source: 'driver', completesJob: job.id, expectedVersion: job.version, ...extra });
    if (kind === 'deleteVolume') {
      const waiting = await this.deleteSnapshotsFirst(job, volumeId, (reason) => deliver({ type: 'storage.failed', phase: job.phase, reason }));
      if (waiting) return { ...base, ...waiting };
    }
    let result: { providerLocation?: string | null; size?: number; adminMetadata?: Record<string, string | null> } = {};
    return this.execute(job, {
      base,
      effect: async () => {
        if (kind === 'createVolume') result = { providerLocation: (await this.createVolume(volume)).providerLocation ?? null };
        else if (kind === 'deleteVolume') await this.driver.deleteVolume(volume);
        else if (kind === 'extendVolume') {
          const newSize = Number((await this.store.readVolumeAdminMetadata(volumeId))[EXTEND_NEW_SIZE_KEY]);
          if (!Number.isInteger(newSize) || newSize <= volume.size) throw new Error(`volume ${volumeId} has no valid ${EXTEND_NEW_SIZE_KEY} to extend to`);
          if (!this.driver.extendVolume) throw new Error(`driver ${this.driver.name} cannot extend volumes`);
          await this.driver.extendVolume(volume, newSize);
          result = { size: newSize, adminMetadata: { [EXTEND_NEW_SIZE_KEY]: null } };
        } else throw new Error(`unknown volume effect ${String(kind)}`);
      },
      fail: (reason) => deliver({ type: 'storage.failed', phase: job.phase, reason }, kind === 'extendVolume' ? { adminMetadata: { [EXTEND_NEW_SIZE_KEY]: null } } : {}),
      done: async () => deliver({ type: 'storage.done', phase: job.phase }, result),
    });
  }

  /** A blank volume, or a copy of the snapshot or volume it was created from. */
  private async createVolume(volume: Volume): Promise<{ providerLocation?: string | null }> {
    if (volume.snapshotId) {
      const source = (await this.store.loadJobContext([volume.snapshotId])).get(volume.snapshotId);
      if (!source || source.deleted) throw new Error(`snapshot ${volume.snapshotId}, the source of volume ${volume.id}, is gone`);
      if (!this.driver.createVolumeFromSnapshot) throw new Error(`driver ${this.driver.name} cannot create a volume from a snapshot`);
      return this.driver.createVolumeFromSnapshot(volume, snapshotRef(source));
    }
    if (volume.sourceVolid) {
      const source = (await this.store.loadVolumes([volume.sourceVolid])).get(volume.sourceVolid);
      if (!source || source.deleted) throw new Error(`volume ${volume.sourceVolid}, the source of volume ${volume.id}, is gone`);
      if (!this.driver.createClonedVolume) throw new Error(`driver ${this.driver.name} cannot clone volumes`);
      return this.driver.createClonedVolume(volume, source);
    }
    return this.driver.createVolume(volume);
  }

  /**
   * A volume deleted with cascade still has snapshots: each is deleted through its own machine
   * (asked again on every run, so a crash between the volume's commit and the requests loses
   * none), and the job looks again later. A snapshot whose delete failed fails the volume's.
   * null: no snapshot left, the volume itself is deleted now.
   */
  private async deleteSnapshotsFirst(job: JobRow, volumeId: string, fail: (reason: string) => Promise<VolumeOutcome>) {
    const snapshots = await this.store.liveSnapshotsOf(volumeId);
    if (snapshots.length === 0) return null;
    const stuck = snapshots.filter((s) => s.status === 'error_deleting');
    if (stuck.length > 0) {
      const outcome = await this.record(() => fail(`snapshots failed to delete: ${stuck.map((s) => s.id).join(', ')}`));
      return { result: 'ran' as const, outcome };
    }
    for (const s of snapshots.filter((x) => x.status === 'available' || x.status === 'error')) {
      // The volume is detached (the machine deletes only from available or error): offline deletes.
      await this.record(() => this.engine.deliver({ snapshotId: s.id, event: { type: 'snapshot.delete', assisted: false }, source: 'driver' }));
    }
    const now = this.engine.clock();
    await this.record(() => this.store.handBackJob({ jobId: job.id, workerId: this.workerId, runAfter: this.later(this.deferDelay(job, now)), uncount: true }, now));
    return { result: 'deferred' as const };
  }

  /** Runs a job's effect with the retries, hand-backs and give-ups every job shares. */
  private async execute(job: JobRow, plan: JobPlan): Promise<JobReport> {
    const { base } = plan;
    const kind = job.kind;
    const fail = (reason: string) => this.record(() => plan.fail(reason));
    if (job.attempts > this.maxAttempts) {
      const outcome = await fail(`gave up on ${kind} after ${job.attempts - 1} attempts${job.lastError ? `; last error: ${job.lastError}` : ''}`);
      return { ...base, result: 'gave_up', outcome };
    }

    try {
      await plan.effect();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const interrupted = isInterrupted(err);
      if (this.shuttingDown && (interrupted || isTransient(err))) {
        await this.record(() => this.store.handBackJob({ jobId: job.id, workerId: this.workerId, runAfter: this.engine.clock(), uncount: true, error: reason }, this.engine.clock()));
        const report = { ...base, result: 'interrupted' as const };
        this.options.onInterrupted?.(report, reason);
        return report;
      }
      if ((interrupted || isTransient(err)) && job.attempts < this.maxAttempts) {
        const delay = backoffMs(job.attempts, this.retryBaseMs, this.retryMaxMs);
        await this.record(() => this.store.handBackJob({ jobId: job.id, workerId: this.workerId, runAfter: this.later(delay), error: reason }, this.engine.clock()));
        return { ...base, result: 'retrying' };
      }
      return { ...base, result: 'ran', outcome: await fail(reason) };
    }
    await this.engine.hooks.afterEffect?.({ snapshotId: base.snapshotId ?? base.volumeId!, kind, jobId: job.id });
    const outcome = await this.record(() => plan.done());
    return { ...base, result: 'ran', ...(outcome ? { outcome } : {}) };
  }

  /**
   * Records a result, retrying while the database fails in a passing way: the effect ran, and a
   * database fault must not turn into the snapshot's failure, nor leave the job waiting out its
   * lease while this worker is alive. Gives up only when the process stops or the lease is near
   * its end (another worker may then take the job over and run it again).
   */
  private async record<T>(write: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.leaseMs * 0.8;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (!isTransient(err) || this.stopping || Date.now() >= giveUpAt) throw err;
        this.options.onRecordRetry?.(err);
        await new Promise((r) => setTimeout(r, backoffMs(attempt, this.recordRetryMs, 2000)));
      }
    }
  }

  /** Whether the volume is this begin job's to run on, across every instance (store/volume-busy.ts). */
  private takeVolumeTurn(job: JobRow, snapshotId: string, volumeId: string): Promise<boolean> {
    const now = this.engine.clock();
    return this.store.takeVolumeTurn({
      jobId: job.id,
      snapshotId,
      volumeId,
      workerId: this.workerId,
      lockedUntil: job.lockedUntil ?? now,
      now,
      deferUntil: this.later(this.deferDelay(job, now)),
    });
  }

  /**
   * How long a begin waits before looking at its volume again: deferMs at first, then a quarter of
   * how long it has waited so far, up to 2 s. A volume with a long queue (every snapshot of it
   * requested at once) would otherwise have its waiting begins claimed and handed back several
   * times a second each, crowding the claims of the work that frees the volume.
   */
  private deferDelay(job: JobRow, now: Date): number {
    return Math.min(2000, Math.max(this.deferMs, (now.getTime() - job.createdAt.getTime()) / 4));
  }

  private later(ms: number) {
    return new Date(this.engine.clock().getTime() + ms);
  }

  /**
   * The guest resume owed since the snapshot left compute's create phase. It runs whatever the
   * snapshot did since (that is the point), and it is never given up: a failure is retried with
   * backoff, without the attempt limit, until compute answers that the guest is not paused by it.
   */
  private async runResume(job: JobRow, snapshot: JobContext | undefined): Promise<JobReport> {
    const snapshotId = job.snapshotId!;
    const base = { jobId: job.id, snapshotId, kind: job.kind };
    const guest = this.compute.guest;
    if (!guest || !snapshot) {
      // Nothing could have paused the guest through this client (no extension), or the volume
      // row is gone with its attachment: there is nobody left to ask.
      const why = !guest ? 'compute has no guest pause extension' : 'the snapshot or its volume is gone';
      await this.record(() => this.engine.closeJob(job.id, 'cancelled', `no guest to resume: ${why}`));
      return { ...base, result: 'cancelled' };
    }
    try {
      const result = await guest.resume(snapshot.volumeId, snapshotId);
      this.options.onGuestResume?.({ snapshotId, volumeId: snapshot.volumeId, result });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.options.onGuestResume?.({ snapshotId, volumeId: snapshot.volumeId, error: reason });
      const runAfter = this.shuttingDown ? this.engine.clock() : this.later(backoffMs(job.attempts, this.retryBaseMs, this.retryMaxMs));
      await this.record(() => this.store.handBackJob({ jobId: job.id, workerId: this.workerId, runAfter, uncount: this.shuttingDown, error: reason }, this.engine.clock()));
      return { ...base, result: this.shuttingDown ? 'interrupted' : 'retrying' };
    }
    await this.engine.hooks.afterEffect?.({ snapshotId, kind: job.kind, jobId: job.id });
    await this.record(() => this.engine.closeJob(job.id, 'done'));
    return { ...base, result: 'ran' };
  }

  private async requestCompute(kind: EffectKind, ref: SnapshotRef, pauseGuest: boolean) {
    const key = kind === 'requestComputeCreate' ? CREATE_INFO_KEY : DELETE_INFO_KEY;
    const raw = ref.adminMetadata[key];
    if (!raw) throw new Error(`driver ${this.driver.name} left no ${key} for compute`);
    const info = JSON.parse(raw) as Record<string, unknown>;
    // Only the agent takes the extension key (a real Nova's create_info schema refuses unknown
    // keys); it is sent either way, so the storage side's decision overrides the agent's default.
    if (kind === 'requestComputeCreate' && this.compute.guest) info[PAUSE_GUEST_CREATE_INFO_KEY] = pauseGuest;
    if (kind === 'requestComputeCreate') await this.compute.requestCreate(ref.volumeId, info);
    else await this.compute.requestDelete(ref.id, info);
  }
}

/** A driver phase's answer as the machine's event: a reconcile phase's verdict, or done. */
function resultEvent(phase: string, result: PhaseResult): SnapshotEvent {
  if (result.reconcile) {
    const { verdict, reason, evidence } = result.reconcile;
    return { type: 'storage.reconciled', phase, verdict, reason, evidence };
  }
  return { type: 'storage.done', phase, ...(result.skipCompute ? { skipCompute: true } : {}) };
}

/** What a result writes; a verdict and its evidence stay on the snapshot as admin metadata. */
function resultWrites(result: PhaseResult): PhaseResult {
  if (!result.reconcile) return result;
  const { verdict, evidence } = result.reconcile;
  return {
    ...result,
    adminMetadata: { ...result.adminMetadata, [RECONCILE_VERDICT_KEY]: verdict, [RECONCILE_EVIDENCE_KEY]: JSON.stringify(evidence) },
  };
}

/** Whether the snapshot's current create asks compute to pause the guest (machine context). */
function pauseRequested(s: JobContext): boolean {
  const context = (JSON.parse(s.machineState) as { context?: Partial<SnapshotContext> }).context;
  return context?.pauseGuest === true;
}

function snapshotRef(s: JobContext): SnapshotRef {
  return {
    id: s.id,
    volumeId: s.volumeId,
    volumeSize: s.volumeSize,
    providerLocation: s.providerLocation,
    providerId: s.providerId,
    volume: {
      id: s.volume.id,
      size: s.volume.size,
      status: s.volume.status,
      attachStatus: s.volume.attachStatus,
      providerLocation: s.volume.providerLocation,
    },
    adminMetadata: s.adminMetadata,
  };
}
