// Reads of volume transfers (writes go with the volume's step: commit-volume-step.ts). Only live
// offers are read: an accepted or withdrawn transfer is soft-deleted, as in Cinder.
import type { SqlRunner } from '../../db/sql.js';
import { asBoolean, asDate, asDateOrNull } from '../../db/sql.js';
import { type Dialect, empty, sql } from './dialect.js';

export interface TransferRow {
  id: string;
  volumeId: string;
  displayName: string | null;
  salt: string;
  cryptHash: string;
  noSnapshots: boolean;
  sourceProjectId: string;
  destinationProjectId: string | null;
  accepted: boolean;
  createdAt: Date;
  expiresAt: Date | null;
}

interface RawTransfer {
  id: string;
  volume_id: string;
  display_name: string | null;
  salt: string;
  crypt_hash: string;
  no_snapshots: unknown;
  source_project_id: string;
  destination_project_id: string | null;
  accepted: unknown;
  created_at: unknown;
  expires_at: unknown;
}

const toRow = (r: RawTransfer): TransferRow => ({
  id: r.id,
  volumeId: r.volume_id,
  displayName: r.display_name,
  salt: r.salt,
  cryptHash: r.crypt_hash,
  noSnapshots: asBoolean(r.no_snapshots),
  sourceProjectId: r.source_project_id,
  destinationProjectId: r.destination_project_id,
  accepted: asBoolean(r.accepted),
  createdAt: asDate(r.created_at),
  expiresAt: asDateOrNull(r.expires_at),
});

const columns = sql`t.id, t.volume_id, t.display_name, t.salt, t.crypt_hash, t.no_snapshots, t.source_project_id, t.destination_project_id,
  t.accepted, t.created_at, t.expires_at`;

/** A live transfer of a live volume (null otherwise). */
export async function readTransfer(db: SqlRunner, d: Dialect, id: string): Promise<TransferRow | null> {
  const rows = await db.query<RawTransfer>(sql`
    SELECT ${columns} FROM transfers t JOIN volumes v ON v.id = t.volume_id
    WHERE t.id = ${d.text(id)} AND t.deleted = ${d.boolean(false)} AND v.deleted = ${d.boolean(false)}`);
  return rows[0] ? toRow(rows[0]) : null;
}

/** Live transfers offered by a project (null: every project), oldest first, as Cinder lists them. */
export async function listTransfers(db: SqlRunner, d: Dialect, projectId: string | null): Promise<TransferRow[]> {
  const rows = await db.query<RawTransfer>(sql`
    SELECT ${columns} FROM transfers t JOIN volumes v ON v.id = t.volume_id
    WHERE t.deleted = ${d.boolean(false)} AND v.deleted = ${d.boolean(false)}
      ${projectId === null ? empty : sql`AND t.source_project_id = ${d.text(projectId)}`}
    ORDER BY t.created_at, t.id`);
  return rows.map(toRow);
}

/** Soft-deletes an offer whose volume is no longer awaiting it (an admin reset it elsewhere). */
export async function withdrawTransfer(db: SqlRunner, d: Dialect, id: string, at: Date): Promise<void> {
  await db.execute(sql`
    UPDATE transfers SET deleted = ${d.boolean(true)}, deleted_at = ${d.timestamp(at)}, updated_at = ${d.timestamp(at)}
    WHERE id = ${d.text(id)} AND deleted = ${d.boolean(false)}`);
}
