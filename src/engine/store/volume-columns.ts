// The volume row as raw SQL reads it, and back into the model's shape (see snapshot-columns.ts
// for why hot reads are raw).
import type { Volume } from '../../db/client.js';
import { raw } from './dialect.js';

export const volumeColumns = raw(
  'id, project_id, user_id, name, description, size, status, attach_status, provider_location, created_at, updated_at, deleted_at, deleted',
);

export interface RawVolume {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number | bigint;
  status: string;
  attach_status: string;
  provider_location: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  deleted: boolean | number;
}

export function toVolumeRow(r: RawVolume): Volume {
  return {
    id: r.id,
    projectId: r.project_id,
    userId: r.user_id,
    name: r.name,
    description: r.description,
    size: Number(r.size),
    status: r.status,
    attachStatus: r.attach_status,
    providerLocation: r.provider_location,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
    deleted: r.deleted === true || r.deleted === 1,
  };
}
