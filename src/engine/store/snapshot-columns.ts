// The snapshot row as raw SQL reads it, and back into the model's shape. Hot reads go through
// raw SQL because Prisma's model queries cost about 1 ms each here (query compilation and
// interpretation), a raw SELECT a quarter of that; the column list lives only here.
import { raw } from './dialect.js';
import type { SnapshotRow } from './rows.js';

export const snapshotColumns = raw(
  'id, volume_id, project_id, user_id, name, description, status, progress, volume_size, provider_location, provider_id, ' +
    'created_at, updated_at, deleted_at, deleted, machine_state, phase, version, deadline_at, phase_entered_at, error_reason',
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
  volume_size: number | bigint;
  provider_location: string | null;
  provider_id: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  deleted: boolean | number;
  machine_state: string;
  phase: string;
  version: number | bigint;
  deadline_at: Date | null;
  phase_entered_at: Date;
  error_reason: string | null;
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
    volumeSize: Number(r.volume_size),
    providerLocation: r.provider_location,
    providerId: r.provider_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
    deleted: r.deleted === true || r.deleted === 1,
    machineState: r.machine_state,
    phase: r.phase,
    version: Number(r.version),
    deadlineAt: r.deadline_at,
    phaseEnteredAt: r.phase_entered_at,
    errorReason: r.error_reason,
  };
}
