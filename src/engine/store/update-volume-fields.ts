// The user-editable fields of a volume (name, description, bootable): no machine state, no version. The
// row comes back with its live attachments, as the API renders it.
import type { PrismaClient } from '../../db/client.js';
import { VOLUME_VIEW_INCLUDE, type VolumeFields, type VolumeWithAttachments } from './rows.js';

export function updateVolumeFields(prisma: PrismaClient, id: string, fields: VolumeFields): Promise<VolumeWithAttachments> {
  // Every write runs in a transaction: on SQLite that is what serialises it with the group
  // commit, which shares the one connection.
  return prisma.$transaction((tx) =>
    tx.volume.update({
      where: { id },
      data: {
        ...(fields.name !== undefined ? { name: fields.name } : {}),
        ...(fields.description !== undefined ? { description: fields.description } : {}),
        ...(fields.bootable !== undefined ? { bootable: fields.bootable } : {}),
      },
      include: VOLUME_VIEW_INCLUDE,
    }),
  );
}
