// One group commit: every write of a batch of events in a single transaction. Rows are moved
// first, under their version guards; whatever belonged to a snapshot whose guard failed (or to a
// create whose volume moved on) is left out, so the transaction only ever holds whole events.
import type { Db } from '../../db/client.js';
import { appendHistory } from './append-history.js';
import { closeJobs } from './close-jobs.js';
import type { Dialect } from './dialect.js';
import { enqueueJobs } from './enqueue-jobs.js';
import { insertSnapshots } from './insert-snapshots.js';
import type { QuotaRefusal } from './quota.js';
import { writeKeyValues } from './key-values.js';
import type { BatchWrites } from './rows.js';
import { updateSnapshots } from './update-snapshots.js';
import { writeVolumeResults } from './write-volume-results.js';

export interface BatchResult {
  /** Snapshots another writer moved since they were read: nothing of theirs was written. */
  conflicts: Set<string>;
  /** Creates whose volume no longer allowed them: not written. */
  refusedCreates: Set<string>;
  /** Creates their project's quota did not hold: not written. */
  overQuota: Map<string, QuotaRefusal>;
}

export async function commitBatch(
  db: Db,
  d: Dialect,
  w: BatchWrites,
  now: Date,
  /** Runs inside the transaction after every write, with the snapshots left out. */
  beforeCommit?: (lost: ReadonlySet<string>) => Promise<void>,
): Promise<BatchResult> {
  return db.sql.transaction(async (tx) => {
    const { refused: refusedCreates, overQuota } = await insertSnapshots(tx, d, w.inserts);
    const conflicts = await updateSnapshots(tx, d, w.updates);
    const lost = new Set([...refusedCreates, ...overQuota.keys(), ...conflicts]);
    const kept = <T extends { snapshotId: string | null }>(xs: T[]) =>
      lost.size === 0 ? xs : xs.filter((x) => x.snapshotId === null || !lost.has(x.snapshotId));
    await appendHistory(tx, d, kept(w.history));
    await enqueueJobs(tx, d, kept(w.outbox));
    const adminMetadata = kept(w.adminMetadata);
    if (adminMetadata.length > 0) {
      const writes = adminMetadata.map((m) => ({ ownerId: m.snapshotId, key: m.key, value: m.value }));
      await writeKeyValues(tx, d, 'snapshot_admin_metadata', writes, now);
    }
    await writeVolumeResults(tx, d, kept(w.volumeWrites), now);
    const closes = kept(w.jobCloses);
    if (closes.length > 0) await closeJobs(tx, d, closes, now);
    await beforeCommit?.(lost);
    return { conflicts, refusedCreates, overQuota };
  });
}
