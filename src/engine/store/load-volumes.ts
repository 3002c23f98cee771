// Volume rows by id in one read (deleted ones included; the caller decides what gone means).
import type { Volume } from '../../db/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { join, sql } from './dialect.js';
import { toVolumeRow, volumeColumns, type RawVolume } from './volume-columns.js';

export async function loadVolumes(db: SqlRunner, ids: readonly string[]): Promise<Map<string, Volume>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.query<RawVolume>(sql`SELECT ${volumeColumns} FROM volumes WHERE id IN (${join(unique)})`);
  return new Map(rows.map((r) => [r.id, toVolumeRow(r)]));
}
