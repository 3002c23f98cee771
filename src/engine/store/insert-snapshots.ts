// New snapshot rows (the create request's transition), each only if its volume still allows it.
//
// Rewriting a volume's own status takes its row lock (PostgreSQL; SQLite already holds the write
// lock) and proves the status is still the one the request was judged against. A volume delete
// does the same, so the two cannot interleave into a snapshot of a deleted volume.
import type { Tx } from '../types.js';
import type { Dialect } from './dialect.js';
import type { SnapshotInsert } from './rows.js';

/** Inserts the rows whose volume guard holds; returns the ids of those refused. */
export async function insertSnapshots(tx: Tx, d: Dialect, inserts: SnapshotInsert[]): Promise<Set<string>> {
  const refused = new Set<string>();
  if (inserts.length === 0) return refused;
  const guards = new Map<string, string>();
  for (const i of inserts) if (i.volumeGuard) guards.set(`${i.volumeGuard.volumeId}\u0000${i.volumeGuard.status}`, i.volumeGuard.volumeId);
  if (guards.size > 0) {
    const rows = [...guards.keys()].map((k) => {
      const [volumeId, status] = k.split('\u0000');
      return [d.text(volumeId), d.text(status)];
    });
    const held = await tx.$queryRaw<{ id: string }[]>`
      UPDATE volumes AS vo SET status = vo.status
      FROM ${d.values(rows)} AS g
      WHERE vo.id = g.column1 AND vo.status = g.column2 AND vo.deleted = ${d.boolean(false)}
      RETURNING id`;
    const heldIds = new Set(held.map((r) => r.id));
    for (const i of inserts) if (i.volumeGuard && !heldIds.has(i.volumeGuard.volumeId)) refused.add(i.row.id);
  }
  const kept = inserts.filter((i) => !refused.has(i.row.id));
  if (kept.length > 0) {
    await tx.snapshot.createMany({ data: kept.map((i) => i.row) });
    const metadata = kept.flatMap((i) =>
      Object.entries(i.metadata).map(([key, value]) => ({ snapshotId: i.row.id, key, value, createdAt: i.row.createdAt })),
    );
    if (metadata.length > 0) await tx.snapshotMetadata.createMany({ data: metadata });
  }
  return refused;
}
