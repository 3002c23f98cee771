// The volume row as raw SQL reads it, and back into the model's shape (see snapshot-columns.ts
// for why hot reads are raw).
import type { Volume } from '../../db/client.js';
import { asBoolean, asDate, asDateOrNull, asNumber } from '../../db/sql.js';
import { raw } from './dialect.js';

export const volumeColumns = raw(
  'id, project_id, user_id, name, description, size, status, attach_status, provider_location, created_at, updated_at, deleted_at, deleted, ' +
    'machine_state, phase, version, phase_entered_at, error_reason, volume_type_id, group_id, bootable, snapshot_id, source_volid',
);

export interface RawVolume {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: unknown;
  status: string;
  attach_status: string;
  provider_location: string | null;
  created_at: unknown;
  updated_at: unknown;
  deleted_at: unknown;
  deleted: unknown;
  machine_state: string;
  phase: string;
  version: unknown;
  phase_entered_at: unknown;
  error_reason: string | null;
  volume_type_id: string | null;
  group_id: string | null;
  bootable: unknown;
  snapshot_id: string | null;
  source_volid: string | null;
}

export function toVolumeRow(r: RawVolume): Volume {
  return {
    id: r.id,
    projectId: r.project_id,
    userId: r.user_id,
    name: r.name,
    description: r.description,
    size: asNumber(r.size),
    status: r.status,
    attachStatus: r.attach_status,
    providerLocation: r.provider_location,
    createdAt: asDate(r.created_at),
    updatedAt: asDate(r.updated_at),
    deletedAt: asDateOrNull(r.deleted_at),
    deleted: asBoolean(r.deleted),
    machineState: r.machine_state,
    phase: r.phase,
    version: asNumber(r.version),
    phaseEnteredAt: asDate(r.phase_entered_at),
    errorReason: r.error_reason,
    volumeTypeId: r.volume_type_id,
    groupId: r.group_id,
    bootable: asBoolean(r.bootable),
    snapshotId: r.snapshot_id,
    sourceVolid: r.source_volid,
  };
}
