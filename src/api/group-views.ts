// Cinder v3's JSON views of group types, groups and group snapshots (cinder/api/v3/views), typed
// by their response schemas (schemas/group-responses.ts).
import type { GroupRow, GroupSnapshotRow, GroupTypeRow } from '../engine/store/index.js';
import type { GroupSnapshotView, GroupTypeView, GroupView } from './schemas/group-responses.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace('Z', '') : null);

export function groupTypeView(t: GroupTypeRow, opts: { specs: boolean }): GroupTypeView {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: t.isPublic,
    ...(opts.specs ? { group_specs: Object.fromEntries(t.specs.map((s) => [s.key, s.value])) } : {}),
  };
}

export function groupView(g: GroupRow, opts: { sources: boolean; volumes?: string[] }): GroupView {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    status: g.status,
    availability_zone: g.availabilityZone,
    created_at: iso(g.createdAt),
    group_type: g.groupTypeId,
    volume_types: g.volumeTypes.map((t) => t.volumeTypeId),
    ...(opts.sources ? { group_snapshot_id: g.groupSnapshotId, source_group_id: g.sourceGroupId } : {}),
    ...(opts.volumes ? { volumes: opts.volumes } : {}),
  };
}

export function groupSnapshotView(s: GroupSnapshotRow): GroupSnapshotView {
  return {
    id: s.id,
    group_id: s.groupId,
    name: s.name,
    description: s.description,
    status: s.status,
    created_at: iso(s.createdAt),
    group_type_id: s.groupTypeId,
  };
}
