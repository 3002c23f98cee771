// Gives claimed jobs back without closing them: a restarted worker freeing its dead
// predecessor's leases, a begin phase waiting for its volume, an effect that failed in a way worth
// retrying (with the delay computed by the caller), or a result that could not be recorded.
//
// A job freed to run now is announced on the work channel (PostgreSQL), so a draining instance's
// jobs are taken over by the others at once, not at their next poll.
import type { Db, PrismaClient, TransactionClient } from '../../db/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { type Dialect, sql } from './dialect.js';
import type { OutboxStatus } from './rows.js';

async function announce(tx: TransactionClient, d: Dialect, freed: number) {
  if (freed > 0 && d.notifyWork) await tx.$executeRawUnsafe(d.notifyWork.sql);
}

export async function releaseLeasesOf(prisma: PrismaClient, d: Dialect, workerId: string): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const freed = await tx.outboxJob.updateMany({ where: { lockedBy: workerId, status: 'pending' satisfies OutboxStatus }, data: { lockedUntil: null, lockedBy: null } });
    await announce(tx, d, freed.count);
    return freed.count;
  });
}

export interface HandBack {
  jobId: number;
  workerId: string;
  runAfter: Date;
  /** true: the claim does not count as an attempt (nothing ran). */
  uncount?: boolean;
  error?: string;
}

/** Hands a job back if this worker still holds it; true: it did. */
export async function handBackJob(db: Db, d: Dialect, h: HandBack, now: Date): Promise<boolean> {
  return db.sql.transaction((tx) => handBack(tx, d, h, now));
}

/** The same, inside a transaction the caller holds (a begin job that found its volume taken). */
export async function handBack(tx: SqlRunner, d: Dialect, h: HandBack, now: Date): Promise<boolean> {
  const released = await tx.execute(sql`
    UPDATE outbox SET locked_by = NULL, locked_until = NULL, run_after = ${d.timestamp(h.runAfter)},
      attempts = attempts - ${d.integer(h.uncount ? 1 : 0)}, last_error = COALESCE(${d.text(h.error ? h.error.slice(0, 2000) : null)}, last_error),
      updated_at = ${d.timestamp(now)}
    WHERE id = ${d.integer(h.jobId)} AND locked_by = ${d.text(h.workerId)} AND status = ${d.text('pending' satisfies OutboxStatus)}`);
  if (released > 0 && h.runAfter <= now && d.notifyWork) await tx.execute(d.notifyWork);
  return released === 1;
}

/**
 * Frees pending jobs this worker holds but is not running: claims whose answer was lost to a
 * database fault (the claim committed, the worker never heard so). Without this they would wait
 * out their lease although the worker that holds them is alive.
 */
export async function releaseStrayLeases(prisma: PrismaClient, d: Dialect, workerId: string, running: readonly number[]): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const freed = await tx.outboxJob.updateMany({
      where: { lockedBy: workerId, status: 'pending' satisfies OutboxStatus, ...(running.length > 0 ? { id: { notIn: [...running] } } : {}) },
      data: { lockedUntil: null, lockedBy: null },
    });
    await announce(tx, d, freed.count);
    return freed.count;
  });
}
