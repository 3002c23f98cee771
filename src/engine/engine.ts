// One event's way through the service: the caller's row (or one read for the whole batch) ->
// pure machine step -> one transaction per batch, each row guarded by the version its step was
// computed from -> commit -> answer each caller -> tell listeners (workers wake up). Nothing
// between two events lives only in memory, so any process can take the next one.
import type { ComputeWaitSeconds } from '../../machines/derive.js';
import { defaultComputeWaitSeconds } from '../../machines/snapshot.js';
import type { Db } from '../db/client.js';
import { EngineEventBus } from './events.js';
import { GroupCommitter } from './group-committer.js';
import { ParentCommitter, type GroupSnapshotWaits } from './parent-committer.js';
import { VolumeCommitter } from './volume-committer.js';
import { SnapshotStore, type ClosedJobStatus } from './store/index.js';
import type { QuotaDemand } from './store/quota.js';
import type { Clock, CommittedTransition, CreateEvent, Delivery, EngineHooks, EventSource, NewSnapshot, Outcome } from './types.js';

export type { CommittedTransition, NewSnapshot } from './types.js';
export type { EngineEvents } from './events.js';
export type { VolumeDelivery, VolumeOutcome } from './volume-committer.js';
export type { VolumeTransitionCommitted } from './types.js';
export type { ParentOutcome, ParentTransitionCommitted } from './parent-committer.js';

export interface EngineOptions {
  clock?: Clock;
  computeWaitSeconds?: Partial<ComputeWaitSeconds>;
  hooks?: EngineHooks;
  /** How often a conflicting event is re-read and re-evaluated before giving up. */
  maxConflictRetries?: number;
  /** Most events committed in one transaction. */
  maxBatch?: number;
  /** How long a group snapshot waits for its member snapshots, in seconds. */
  groupSnapshotWaitSeconds?: Partial<GroupSnapshotWaits>;
}

export class Engine {
  readonly clock: Clock;
  readonly waits: ComputeWaitSeconds;
  readonly hooks: EngineHooks;
  readonly store: SnapshotStore;
  /** Announces 'transition' (CommittedTransition) after each commit. */
  readonly events = new EngineEventBus();
  private readonly committer: GroupCommitter;
  /** The volume machine's events (volume-committer.ts): same store, history and outbox. */
  readonly volumes: VolumeCommitter;
  /** The group and group snapshot machines' events (parent-committer.ts). */
  readonly parents: ParentCommitter;

  constructor(
    readonly db: Db,
    options: EngineOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.waits = { ...defaultComputeWaitSeconds, ...options.computeWaitSeconds };
    this.hooks = options.hooks ?? {};
    this.store = new SnapshotStore(db);
    const maxConflictRetries = options.maxConflictRetries ?? 50;
    this.committer = new GroupCommitter(this.store, {
      clock: this.clock,
      waits: this.waits,
      hooks: this.hooks,
      maxBatch: options.maxBatch ?? 256,
      maxConflictRetries,
      onCommitted: (ts) => this.committed(ts),
    });
    this.volumes = new VolumeCommitter(this.store, this.clock, this.events, maxConflictRetries, this.hooks);
    this.parents = new ParentCommitter(() => this.db.prisma, this.clock, this.events, maxConflictRetries, options.groupSnapshotWaitSeconds);
  }

  /**
   * Creates the snapshot row from its first event (the create request). With a volume guard the
   * row is only written while the volume is still undeleted and in that status (outcome
   * `refused` otherwise), and with a quota demand only while the project's quota holds it
   * (outcome `over_quota` otherwise), in the same transaction.
   */
  start(
    snapshot: NewSnapshot,
    event: CreateEvent,
    source: EventSource,
    volumeGuard?: { volumeId: string; status: string },
    quota?: QuotaDemand,
  ): Promise<Outcome> {
    return this.committer.submit({ kind: 'create', snapshot, event, source, ...(volumeGuard ? { volumeGuard } : {}), ...(quota ? { quota } : {}) });
  }

  /**
   * Offers an event to a snapshot's machine. Accepted: the new state, its history row, its
   * effects and the given writes commit together. Rejected: only a history row marked rejected
   * (and the job it answers, closed). A concurrent writer makes the version guard fail; the
   * event is then re-read and re-evaluated against the newer state, so nothing is lost.
   */
  deliver(d: Delivery): Promise<Outcome> {
    return this.committer.submit({ kind: 'event', delivery: d });
  }

  /** Closes a job that ends without an event (a compute request sent, an effect gone moot). */
  async closeJob(jobId: number, status: ClosedJobStatus, error?: string): Promise<void> {
    await this.committer.submit({ kind: 'close', jobId, status, ...(error ? { error } : {}) });
  }

  /** Resolves once every event submitted so far has been committed or has failed. */
  idle(): Promise<void> {
    return this.committer.idle();
  }

  private committed(transitions: CommittedTransition[]) {
    for (const t of transitions) {
      // Hooks are for tests (crash points); a throwing listener must not hide later transitions.
      void Promise.resolve(this.hooks.afterCommit?.({ snapshotId: t.snapshotId, event: t.eventType, effects: t.effects }));
      this.events.emit('transition', t);
    }
  }
}
