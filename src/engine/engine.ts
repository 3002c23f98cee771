// One event's way through the service: load -> pure machine step -> one transaction guarded by
// the version the step was computed from -> commit -> tell listeners (workers wake up).
// Nothing between two events lives only in memory, so any process can take the next one.
import { EventEmitter } from 'node:events';
import {
  initialSnapshot,
  restore,
  statusOfPhase,
  step,
  type ComputeWaitSeconds,
  type MachineSnapshot,
} from '../../machines/derive.js';
import { defaultComputeWaitSeconds, type SnapshotEvent } from '../../machines/snapshot.js';
import type { Db } from '../db/client.js';
import { VersionConflict } from './errors.js';
import { appendHistory, applyResult, closeJob, enqueueEffects } from './record.js';
import { stateColumns } from './state-columns.js';
import type { Clock, Delivery, EngineHooks, EventSource, Outcome, Tx } from './types.js';

export interface EngineOptions {
  clock?: Clock;
  computeWaitSeconds?: Partial<ComputeWaitSeconds>;
  hooks?: EngineHooks;
  /** How often a conflicting event is re-read and re-evaluated before giving up. */
  maxConflictRetries?: number;
}

export interface CommittedTransition {
  snapshotId: string;
  version: number;
  fromPhase: string | null;
  toPhase: string;
  toStatus: string;
  eventType: string;
  source: EventSource;
  effects: string[];
  /** When the transition committed, and when the phase it left had been entered (null: none). */
  at: Date;
  fromPhaseEnteredAt: Date | null;
}

export interface NewSnapshot {
  id: string;
  volumeId: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  volumeSize: number;
  metadata: Record<string, string>;
}

export class Engine {
  readonly clock: Clock;
  readonly waits: ComputeWaitSeconds;
  readonly hooks: EngineHooks;
  /** Emits 'transition' (CommittedTransition) after each commit. */
  readonly events = new EventEmitter();
  private readonly maxRetries: number;

  constructor(
    readonly db: Db,
    options: EngineOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.waits = { ...defaultComputeWaitSeconds, ...options.computeWaitSeconds };
    this.hooks = options.hooks ?? {};
    this.maxRetries = options.maxConflictRetries ?? 50;
    this.events.setMaxListeners(100);
  }

  /** Creates the snapshot row from its first event (the create request) in one commit. */
  /**
   * `precondition` runs first inside the transaction: the caller's way to hold what the create
   * depends on (the volume's status) for as long as the snapshot row is being written.
   */
  async start(
    snapshot: NewSnapshot,
    event: Extract<SnapshotEvent, { type: 'snapshot.create' }>,
    source: EventSource,
    precondition?: (tx: Tx) => Promise<void>,
  ): Promise<Outcome> {
    const now = this.clock();
    const initial = initialSnapshot();
    const result = step(initial, event);
    if (!result.accepted) throw new Error('the snapshot machine refused its create event');
    const columns = stateColumns(result.next, now, this.waits);
    await this.db.prisma.$transaction(async (tx) => {
      await precondition?.(tx);
      await tx.snapshot.create({
        data: {
          id: snapshot.id,
          volumeId: snapshot.volumeId,
          projectId: snapshot.projectId,
          userId: snapshot.userId,
          name: snapshot.name,
          description: snapshot.description,
          volumeSize: snapshot.volumeSize,
          version: 1,
          createdAt: now,
          updatedAt: now,
          ...columns,
        },
      });
      for (const [key, value] of Object.entries(snapshot.metadata)) {
        await tx.snapshotMetadata.create({ data: { snapshotId: snapshot.id, key, value, createdAt: now } });
      }
      await appendHistory(tx, {
        snapshotId: snapshot.id,
        version: 1,
        fromState: null,
        toState: columns.phase,
        fromStatus: null,
        toStatus: columns.status,
        event,
        source,
        now,
      });
      await enqueueEffects(tx, snapshot.id, columns.phase, 1, result.effects, now);
      await this.hooks.beforeCommit?.({ snapshotId: snapshot.id, event: event.type });
    });
    return this.committed({
      snapshotId: snapshot.id,
      version: 1,
      fromPhase: null,
      toPhase: columns.phase,
      toStatus: columns.status,
      eventType: event.type,
      source,
      effects: result.effects,
      at: now,
      fromPhaseEnteredAt: null,
    }, null, 1);
  }

  /**
   * Offers an event to a snapshot's machine. Accepted: the new state, its history row, its
   * effects and the given writes commit together. Rejected: only a history row marked rejected
   * (and the job it answers, closed). A concurrent writer makes the version guard fail; the
   * event is then re-read and re-evaluated against the newer state, so nothing is lost.
   */
  async deliver(d: Delivery): Promise<Outcome> {
    for (let attempt = 1; attempt <= this.maxRetries; attempt++) {
      const row = await this.db.prisma.snapshot.findUnique({ where: { id: d.snapshotId } });
      if (!row) return { kind: 'not_found', snapshotId: d.snapshotId };
      if (d.expectedVersion !== undefined && row.version !== d.expectedVersion) {
        return { kind: 'conflict', snapshotId: d.snapshotId, expectedVersion: d.expectedVersion, actualVersion: row.version };
      }
      const current: MachineSnapshot = restore(JSON.parse(row.machineState));
      const result = step(current, d.event);
      const now = this.clock();
      try {
        if (!result.accepted) {
          const reason = rejectionReason(row.status, row.phase, d.event);
          await this.db.prisma.$transaction(async (tx) => {
            await guardVersion(tx, row.id, row.version, row.updatedAt);
            await appendHistory(tx, {
              snapshotId: row.id,
              version: row.version,
              fromState: row.phase,
              toState: row.phase,
              fromStatus: row.status,
              toStatus: row.status,
              event: d.event,
              source: d.source,
              rejected: true,
              reason,
              now,
            });
            await closeJob(tx, d.completesJob, now, 'cancelled', reason);
            await this.hooks.beforeCommit?.({ snapshotId: row.id, event: d.event.type });
          });
          return { kind: 'rejected', snapshotId: row.id, version: row.version, phase: row.phase, status: row.status, reason };
        }
        const columns = stateColumns(result.next, now, this.waits, row);
        const version = row.version + 1;
        await this.db.prisma.$transaction(async (tx) => {
          const updated = await tx.snapshot.updateMany({
            where: { id: row.id, version: row.version },
            data: { ...columns, version, updatedAt: now },
          });
          if (updated.count !== 1) throw new VersionConflict(row.id, row.version);
          await appendHistory(tx, {
            snapshotId: row.id,
            version,
            fromState: row.phase,
            toState: columns.phase,
            fromStatus: row.status,
            toStatus: columns.status,
            event: d.event,
            source: d.source,
            // Why the snapshot is in error / error_deleting, on the row that put it there.
            reason: columns.errorReason,
            now,
          });
          await applyResult(tx, row.id, row.volumeId, d.writes, now);
          await enqueueEffects(tx, row.id, columns.phase, version, result.effects, now);
          await closeJob(tx, d.completesJob, now, 'done');
          await this.hooks.beforeCommit?.({ snapshotId: row.id, event: d.event.type });
        });
        return this.committed({
          snapshotId: row.id,
          version,
          fromPhase: row.phase,
          toPhase: columns.phase,
          toStatus: columns.status,
          eventType: d.event.type,
          source: d.source,
          effects: result.effects,
          at: now,
          fromPhaseEnteredAt: row.phaseEnteredAt,
        }, row.status, attempt);
      } catch (err) {
        if (!(err instanceof VersionConflict)) throw err;
        if (d.expectedVersion !== undefined) {
          return { kind: 'conflict', snapshotId: d.snapshotId, expectedVersion: d.expectedVersion, actualVersion: -1 };
        }
      }
    }
    throw new Error(`snapshot ${d.snapshotId}: event ${d.event.type} kept conflicting after ${this.maxRetries} attempts`);
  }

  private async committed(t: CommittedTransition, fromStatus: string | null, attempts: number): Promise<Outcome> {
    await this.hooks.afterCommit?.({ snapshotId: t.snapshotId, event: t.eventType, effects: t.effects });
    this.events.emit('transition', t);
    return {
      kind: 'accepted',
      snapshotId: t.snapshotId,
      version: t.version,
      fromPhase: t.fromPhase,
      toPhase: t.toPhase,
      fromStatus,
      toStatus: t.toStatus,
      effects: t.effects,
      attempts,
    };
  }
}

/**
 * Takes the row for this transaction only if it is still at `version`. Rejections are history
 * too, and must be judged against the state they were actually offered to.
 */
async function guardVersion(tx: Tx, id: string, version: number, updatedAt: Date) {
  // Rewriting the same values takes the row lock (PostgreSQL) without changing what users see.
  const touched = await tx.snapshot.updateMany({ where: { id, version }, data: { version, updatedAt } });
  if (touched.count !== 1) throw new VersionConflict(id, version);
}

function rejectionReason(status: string, phase: string, event: SnapshotEvent): string {
  if (status === statusOfPhase('deleted')) return `snapshot is deleted`;
  switch (event.type) {
    case 'storage.done':
    case 'storage.failed':
    case 'compute.failed':
    case 'timer.expired':
      return `stale ${event.type} for phase ${event.phase}; snapshot is in ${phase}`;
    case 'compute.status':
      return `compute callback (status ${event.status}${event.computeStatus ? `, compute_snapshot_status ${event.computeStatus}` : ''}) not accepted in phase ${phase}`;
    default:
      return `${event.type} not allowed in phase ${phase} (status ${status})`;
  }
}
