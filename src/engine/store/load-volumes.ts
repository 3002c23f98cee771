// Volume rows by id in one read (deleted ones included; the caller decides what gone means).
import type { PrismaClient, Volume } from '../../db/client.js';
import { join } from './dialect.js';
import { toVolumeRow, volumeColumns, type RawVolume } from './volume-columns.js';

export async function loadVolumes(prisma: PrismaClient, ids: readonly string[]): Promise<Map<string, Volume>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await prisma.$queryRaw<RawVolume[]>`SELECT ${volumeColumns} FROM volumes WHERE id IN (${join(unique)})`;
  return new Map(rows.map((r) => [r.id, toVolumeRow(r)]));
}
