// One assisted operation per volume, across every instance on the database: a claimed begin job
// takes its volume's turn here, or is handed back (not counted as an attempt) to look again later.
//
// The decision and the hand-back are one transaction, and the transactions of one volume take
// turns (PostgreSQL: an advisory lock on the volume for the transaction; SQLite: BEGIN IMMEDIATE,
// one writer at a time), so two instances can never both read "free" and both go. The volume is
// taken when another of its snapshots
//   - is in an assisted operation past its begin (compute or storage-complete): its begin's job
//     closed in the same commit that moved the snapshot there, so there is no gap between the two;
//   - has a begin job running: leased, and claimed before this one (a job claimed later, still
//     before its own turn, waits for this one instead: of two claimed together exactly one goes);
//   - has an earlier begin job due and not deferred: the first requested goes first.
import { assistedInFlightPhases } from '../../../machines/derive.js';
import { assistedBeginEffects } from '../../../machines/snapshot.js';
import type { Db } from '../../db/client.js';
import { type Dialect, join, sql } from './dialect.js';
import { handBack } from './hand-back-jobs.js';
import type { OutboxStatus } from './rows.js';

export interface VolumeTurn {
  jobId: number;
  snapshotId: string;
  volumeId: string;
  workerId: string;
  /** The end of this job's lease, as its claim set it: the claim's time, to order claimants. */
  lockedUntil: Date;
  now: Date;
  /** When a job that finds the volume taken looks again. */
  deferUntil: Date;
}

/** True: the volume is this job's to run on. False: it was taken, and the job has been handed back. */
export async function takeVolumeTurn(db: Db, d: Dialect, t: VolumeTurn): Promise<boolean> {
  const pending = d.text('pending' satisfies OutboxStatus);
  return db.sql.transaction(async (tx) => {
    const lock = d.transactionLock(`volume:${t.volumeId}`);
    if (lock) await tx.execute(lock);
    const holders = await tx.query(sql`
      SELECT s.id FROM snapshots s
      WHERE s.volume_id = ${d.text(t.volumeId)} AND s.deleted = ${d.boolean(false)} AND s.id <> ${d.text(t.snapshotId)}
        AND s.phase IN (${join(assistedInFlightPhases.map((p) => d.text(p)))})
      UNION ALL
      SELECT s.id FROM outbox o JOIN snapshots s ON s.id = o.snapshot_id
      WHERE s.volume_id = ${d.text(t.volumeId)} AND s.deleted = ${d.boolean(false)} AND s.id <> ${d.text(t.snapshotId)}
        AND o.status = ${pending} AND o.id <> ${d.integer(t.jobId)}
        AND o.kind IN (${join(assistedBeginEffects.map((k) => d.text(k)))})
        AND ((o.locked_until > ${d.timestamp(t.now)} AND o.locked_until < ${d.timestamp(t.lockedUntil)})
          OR (o.id < ${d.integer(t.jobId)} AND (o.locked_until > ${d.timestamp(t.now)} OR o.run_after <= ${d.timestamp(t.now)})))
      LIMIT 1`);
    if (holders.length === 0) return true;
    await handBack(tx, d, { jobId: t.jobId, workerId: t.workerId, runAfter: t.deferUntil, uncount: true }, t.now);
    return false;
  });
}
