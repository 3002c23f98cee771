// The snapshot row as raw SQL reads it, and back into the model's shape. Hot reads go through
// raw SQL because Prisma's model queries cost about 1 ms each here (query compilation and
// interpretation), a raw SELECT a quarter of that; the column list lives only here.
import { asBoolean, asDate, asDateOrNull, asNumber } from '../../db/sql.js';
import { raw } from './dialect.js';
import type { SnapshotRow } from './rows.js';

export const snapshotColumns = raw(
  'id, volume_id, project_id, user_id, name, description, status, progress, volume_size, provider_location, provider_id, ' +
    'created_at, updated_at, deleted_at, deleted, machine_state, phase, version, deadline_at, phase_entered_at, error_reason, group_snapshot_id',
);

export interface RawSnapshot {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  progress: string;
  volume_size: unknown;
  provider_location: string | null;
  provider_id: string | null;
  created_at: unknown;
  updated_at: unknown;
  deleted_at: unknown;
  deleted: unknown;
  machine_state: string;
  phase: string;
  version: unknown;
  deadline_at: unknown;
  phase_entered_at: unknown;
  error_reason: string | null;
  group_snapshot_id: string | null;
}

export function toSnapshotRow(r: RawSnapshot): SnapshotRow {
  return {
    id: r.id,
    volumeId: r.volume_id,
    projectId: r.project_id,
    userId: r.user_id,
    name: r.name,
    description: r.description,
    status: r.status,
    progress: r.progress,
    volumeSize: asNumber(r.volume_size),
    providerLocation: r.provider_location,
    providerId: r.provider_id,
    createdAt: asDate(r.created_at),
    updatedAt: asDate(r.updated_at),
    deletedAt: asDateOrNull(r.deleted_at),
    deleted: asBoolean(r.deleted),
    machineState: r.machine_state,
    phase: r.phase,
    version: asNumber(r.version),
    deadlineAt: asDateOrNull(r.deadline_at),
    phaseEnteredAt: asDate(r.phase_entered_at),
    errorReason: r.error_reason,
    groupSnapshotId: r.group_snapshot_id,
  };
}
