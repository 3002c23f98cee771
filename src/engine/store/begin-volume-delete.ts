// The first step of a volume delete: the move to `deleting` and the count of its snapshots in one
// transaction, serialised with snapshot creation (which holds the volume row the same way, see
// insert-snapshots.ts), so no snapshot can appear after the count.
import type { PrismaClient } from '../../db/client.js';

export type VolumeDeleteStart =
  | { kind: 'deleting' }
  /** The volume left `fromStatus` (or was deleted) since it was read: nothing written. */
  | { kind: 'moved' }
  /** The volume still has live snapshots: nothing written. */
  | { kind: 'has_snapshots'; count: number };

/** Thrown inside the transaction only to roll it back. */
class Refused extends Error {
  constructor(readonly result: VolumeDeleteStart) {
    super(result.kind);
  }
}

export async function beginVolumeDelete(prisma: PrismaClient, volumeId: string, fromStatus: string): Promise<VolumeDeleteStart> {
  try {
    return await prisma.$transaction(async (tx) => {
      const moved = await tx.volume.updateMany({ where: { id: volumeId, deleted: false, status: fromStatus }, data: { status: 'deleting' } });
      if (moved.count !== 1) throw new Refused({ kind: 'moved' });
      const snapshots = await tx.snapshot.count({ where: { volumeId, deleted: false } });
      if (snapshots > 0) throw new Refused({ kind: 'has_snapshots', count: snapshots });
      return { kind: 'deleting' } as const;
    });
  } catch (err) {
    if (err instanceof Refused) return err.result;
    throw err;
  }
}
