// Deadlines live in the snapshot rows, not in timers, so they survive restarts and any process
// can fire them. Each expiry is delivered for the exact version that set it: if the snapshot
// moved on meanwhile (a callback won the race), the timeout is moot and is dropped silently.
import type { Engine } from './engine.js';
import type { Outcome } from './types.js';

export async function sweepDeadlines(engine: Engine, batch = 100): Promise<Outcome[]> {
  const now = engine.clock();
  const due = await engine.db.prisma.snapshot.findMany({
    where: { deadlineAt: { lte: now }, deleted: false },
    orderBy: { deadlineAt: 'asc' },
    take: batch,
    select: { id: true, phase: true, version: true },
  });
  const outcomes: Outcome[] = [];
  for (const row of due) {
    outcomes.push(
      await engine.deliver({
        snapshotId: row.id,
        event: { type: 'timer.expired', phase: row.phase },
        source: 'timer',
        expectedVersion: row.version,
      }),
    );
  }
  return outcomes;
}

/** When the next deadline falls, so a runner can sleep exactly until then. */
export async function nextDeadline(engine: Engine): Promise<Date | null> {
  const row = await engine.db.prisma.snapshot.findFirst({
    where: { deadlineAt: { not: null }, deleted: false },
    orderBy: { deadlineAt: 'asc' },
    select: { deadlineAt: true },
  });
  return row?.deadlineAt ?? null;
}
