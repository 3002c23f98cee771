// A new volume row, in the status its creation starts from (the driver has not run yet).
import type { PrismaClient } from '../../db/client.js';
import type { VolumeInsert } from './rows.js';

export function insertVolume(prisma: PrismaClient, v: VolumeInsert) {
  // Every write runs in a transaction: on SQLite that is what serialises it with the group
  // commit, which shares the one connection.
  return prisma.$transaction((tx) => tx.volume.create({ data: v }));
}
