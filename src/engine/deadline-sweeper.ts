// Deadlines live in the snapshot rows, not in timers, so they survive restarts and any process
// can fire them. Each expiry is delivered for the exact version that set it: if the snapshot
// moved on meanwhile (a callback won the race), the timeout is moot and is dropped silently.
// The expiries of one sweep are delivered together, so they share a group commit. Due deadlines
// are claimed (store/due-deadlines.ts), so several instances sweeping at once deliver each once.
import type { Engine } from './engine.js';
import type { Outcome } from './types.js';

/** How long a claimed deadline waits before another sweep may take it again (its claimant died). */
export const DEADLINE_CLAIM_MS = 30_000;

export async function sweepDeadlines(engine: Engine, batch = 100, claimMs = DEADLINE_CLAIM_MS): Promise<Outcome[]> {
  const due = await engine.store.claimDueDeadlines(engine.clock(), batch, claimMs);
  return Promise.all(
    due.map((row) =>
      engine.deliver({ snapshotId: row.id, event: { type: 'timer.expired', phase: row.phase }, source: 'timer', expectedVersion: row.version }),
    ),
  );
}

/** When the next deadline falls, so a runner can sleep exactly until then. */
export function nextDeadline(engine: Engine): Promise<Date | null> {
  return engine.store.nextDeadline();
}
