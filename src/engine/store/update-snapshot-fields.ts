// The user-editable fields of a snapshot (name, description): no machine state, no version.
import type { PrismaClient } from '../../db/client.js';

export function updateSnapshotFields(prisma: PrismaClient, id: string, fields: { name?: string | null; description?: string | null }) {
  return prisma.$transaction((tx) =>
    tx.snapshot.update({
      where: { id },
      data: {
        ...(fields.name !== undefined ? { name: fields.name } : {}),
        ...(fields.description !== undefined ? { description: fields.description } : {}),
      },
    }),
  );
}
