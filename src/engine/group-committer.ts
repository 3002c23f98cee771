// Group commit: one committer per process takes every event waiting (up to a cap), reads the rows
// it was not handed in one query, steps the machines in memory in arrival order, and writes the
// whole batch in one transaction. Each caller is answered only after the commit that holds its
// event, with its own outcome, exactly as if its event had been alone:
//  - a snapshot whose version guard failed (another process wrote it) is re-read and its events
//    are offered again in the next batch;
//  - an event that cannot be planned, or a create whose volume moved on, fails alone;
//  - a batch the database refuses is split, so one bad event cannot fail the others, and a
//    database fault reaches each caller as that fault (the API answers 503).
import { ExpiringLru } from '../lib/expiring-lru.js';
import { isTransient } from './transient.js';
import { planBatch, rowAfter, type PlannedItem } from './plan-batch.js';
import type { BatchResult } from './store/commit-batch.js';
import type { SnapshotStore } from './store/index.js';
import type { SnapshotRow } from './store/rows.js';
import type { CommittedTransition, EngineHooks, Outcome, Submission } from './types.js';
import type { ComputeWaitSeconds } from '../../machines/derive.js';

export interface GroupCommitterOptions {
  clock: () => Date;
  waits: ComputeWaitSeconds;
  hooks: EngineHooks;
  /** Most events in one transaction. */
  maxBatch: number;
  /** How often an event may meet a moved-on row before giving up. */
  maxConflictRetries: number;
  /** Called after each commit with its transitions, in order. */
  onCommitted: (transitions: CommittedTransition[]) => void;
}

interface Pending {
  sub: Submission;
  attempts: number;
  resolve: (o: Outcome) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;
  /** Rows as this process last committed them: a row handed in that is older is replaced. */
  private readonly recent = new ExpiringLru<string, SnapshotRow>(4096);

  constructor(
    private readonly store: SnapshotStore,
    private readonly options: GroupCommitterOptions,
  ) {}

  submit(sub: Submission): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.queue.push({ sub, attempts: 1, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves once everything submitted so far is committed (or failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain() {
    // Yield once, so requests arriving in the same turn of the event loop share the first batch.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        await this.commit(batch);
      }
    } finally {
      this.draining = null;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let rows: Map<string, SnapshotRow>;
    let planned: PlannedItem[];
    let writes;
    let lost: BatchResult;
    const now = this.options.clock();
    try {
      rows = await this.rowsFor(batch);
      ({ writes, planned } = planBatch(batch.map((p) => p.sub), rows, now, this.options.waits));
      // Items that failed to plan take no part in the transaction.
      lost = await this.store.commitBatch(writes, now, async (left) => {
        for (let i = 0; i < batch.length; i++) {
          const p = planned[i];
          if (p.error || !p.transition && p.outcome?.kind !== 'rejected') continue;
          if (p.snapshotId && left.has(p.snapshotId)) continue;
          const sub = batch[i].sub;
          const event = sub.kind === 'event' ? sub.delivery.event.type : sub.kind === 'create' ? sub.event.type : 'close';
          await this.options.hooks.beforeCommit?.({ snapshotId: p.snapshotId!, event });
        }
      });
    } catch (err) {
      // A database that refuses the batch for one event's sake: split it, so each event meets
      // the database alone and only that one fails. A database that is unavailable refuses them
      // all alike, and one try per event would only multiply the failing round trips.
      if (batch.length > 1 && !isTransient(err)) {
        for (const p of batch) await this.commit([p]);
        return;
      }
      for (const p of batch) p.reject(err);
      return;
    }

    const retry: Pending[] = [];
    const outcomes: Array<[Pending, Outcome]> = [];
    const committed: CommittedTransition[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const plan = planned[i];
      if (plan.error) {
        p.reject(plan.error);
        continue;
      }
      if (plan.snapshotId && lost.conflicts.has(plan.snapshotId)) {
        if (p.attempts >= this.options.maxConflictRetries) {
          p.reject(new Error(`snapshot ${plan.snapshotId}: event kept conflicting after ${p.attempts} attempts`));
          continue;
        }
        // Read again: the row handed in (or cached) is what moved on.
        const sub = p.sub.kind === 'event' ? { ...p.sub, delivery: { ...p.sub.delivery, row: undefined } } : p.sub;
        if (plan.snapshotId) this.recent.delete(plan.snapshotId);
        retry.push({ ...p, sub, attempts: p.attempts + 1 });
        continue;
      }
      const overQuota = plan.snapshotId ? lost.overQuota.get(plan.snapshotId) : undefined;
      if (overQuota) {
        p.resolve({ kind: 'over_quota', snapshotId: plan.snapshotId!, refusal: overQuota });
        continue;
      }
      if (plan.snapshotId && lost.refusedCreates.has(plan.snapshotId)) {
        p.resolve({ kind: 'refused', snapshotId: plan.snapshotId, reason: 'the volume changed status while the snapshot was requested' });
        continue;
      }
      if (plan.transition) committed.push(plan.transition);
      outcomes.push([p, plan.outcome!]);
    }
    const after = new Map<string, SnapshotRow>();
    for (const u of writes.updates) {
      const origin = rows.get(u.id);
      if (origin && !lost.conflicts.has(u.id)) after.set(u.id, rowAfter(origin, u));
    }
    for (const ins of writes.inserts) {
      if (!lost.refusedCreates.has(ins.row.id) && !lost.overQuota.has(ins.row.id)) after.set(ins.row.id, { ...ins.row, groupSnapshotId: ins.row.groupSnapshotId ?? null, providerLocation: null, providerId: null });
    }
    for (const [id, row] of after) this.recent.set(id, row, Number.POSITIVE_INFINITY);
    for (const [p, outcome] of outcomes) {
      p.resolve(outcome.kind === 'accepted' ? { ...outcome, attempts: p.attempts, row: after.get(outcome.snapshotId) } : outcome);
    }
    // Events that met a moved-on row go first in the next batch, in their order.
    if (retry.length > 0) this.queue.unshift(...retry);
    if (committed.length > 0) this.options.onCommitted(committed);
  }

  /** The rows a batch's events are offered to: handed in, recently committed, or read now. */
  private async rowsFor(batch: Pending[]): Promise<Map<string, SnapshotRow>> {
    const rows = new Map<string, SnapshotRow>();
    const missing: string[] = [];
    for (const { sub } of batch) {
      if (sub.kind !== 'event') continue;
      const id = sub.delivery.snapshotId;
      const cached = this.recent.get(id);
      // Without a row handed in, the row this process last committed stands in for a read; the
      // version guard catches one another process moved on since. Not for an event bound to a
      // version: a stale cache would refuse it instead of re-reading.
      const handed = sub.delivery.row ?? (sub.delivery.expectedVersion === undefined ? cached : undefined);
      if (!handed) {
        if (!rows.has(id)) missing.push(id);
        continue;
      }
      const best = cached && cached.version > handed.version ? cached : handed;
      const known = rows.get(id);
      if (!known || best.version > known.version) rows.set(id, best);
    }
    const toRead = missing.filter((id) => !rows.has(id));
    if (toRead.length > 0) for (const [id, row] of await this.store.loadSnapshots(toRead)) rows.set(id, row);
    return rows;
  }
}
