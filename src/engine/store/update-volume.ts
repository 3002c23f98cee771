// A volume's own fields, written as given: the user's (name, description), the driver's result
// (provider location), an admin's reset, or the steps of a volume delete. No guard: the caller
// judged the row it read (the attach flow's guarded moves are in move-volume-status.ts). The row
// comes back with its live attachments, as the API renders it.
import type { PrismaClient } from '../../db/client.js';
import type { VolumeFields, VolumeWithAttachments } from './rows.js';

export function updateVolume(prisma: PrismaClient, id: string, fields: VolumeFields): Promise<VolumeWithAttachments> {
  // Every write runs in a transaction: on SQLite that is what serialises it with the group
  // commit, which shares the one connection.
  return prisma.$transaction((tx) =>
    tx.volume.update({ where: { id }, data: fields, include: { attachments: { where: { deleted: false } } } }),
  );
}
