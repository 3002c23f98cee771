// Deadlines live in the snapshot rows, not in timers, so they survive restarts and any process
// can fire them. Each expiry is delivered for the exact version that set it: if the snapshot
// moved on meanwhile (a callback won the race), the timeout is moot and is dropped silently.
// The expiries of one sweep are delivered together, so they share a group commit.
import type { Engine } from './engine.js';
import type { Outcome } from './types.js';

export async function sweepDeadlines(engine: Engine, batch = 100): Promise<Outcome[]> {
  const due = await engine.store.dueDeadlines(engine.clock(), batch);
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
