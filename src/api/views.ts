// Cinder v3's JSON views of volumes and snapshots (cinder/api/v3/views). Admin-only fields are
// added only when the caller may see them. Each view's type is its documented response schema
// (src/api/schemas/responses.ts).
import type { Snapshot, Volume, VolumeAttachment } from '../db/client.js';
import type { SnapshotView, TransitionView, VolumeSummaryView, VolumeView } from './schemas/responses.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace('Z', '') : null);

export function snapshotView(
  s: Snapshot,
  metadata: Record<string, string>,
  opts: { extended: boolean },
): SnapshotView {
  return {
    id: s.id,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
    name: s.name,
    description: s.description,
    volume_id: s.volumeId,
    status: s.status,
    size: s.volumeSize,
    metadata,
    user_id: s.userId,
    ...(opts.extended
      ? {
          'os-extended-snapshot-attributes:progress': s.progress,
          'os-extended-snapshot-attributes:project_id': s.projectId,
        }
      : {}),
  };
}

export function volumeSummaryView(v: Volume, selfUrl: string): VolumeSummaryView {
  return { id: v.id, name: v.name, links: [{ rel: 'self', href: selfUrl }] };
}

export function volumeView(v: Volume & { attachments: VolumeAttachment[] }, selfUrl: string, opts: { admin: boolean }): VolumeView {
  return {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: 'nova',
    created_at: iso(v.createdAt),
    updated_at: iso(v.updatedAt),
    name: v.name,
    description: v.description,
    volume_type: '__DEFAULT__',
    snapshot_id: v.snapshotId ?? null,
    source_volid: v.sourceVolid ?? null,
    metadata: {},
    links: [{ rel: 'self', href: selfUrl }],
    user_id: v.userId,
    bootable: 'false',
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: false,
    attachments: v.attachments.map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.instanceUuid,
      host_name: null,
      device: a.mountpoint,
      attached_at: iso(a.attachTime),
    })),
    ...(opts.admin ? { 'os-vol-tenant-attr:tenant_id': v.projectId, 'os-vol-host-attr:host': 'assisted-snapshots@remotefs' } : {}),
  };
}

export function transitionView(t: {
  id: number;
  version: number;
  fromPhase: string | null;
  toPhase: string;
  fromStatus: string | null;
  toStatus: string;
  eventType: string;
  source: string;
  payload: string | null;
  rejected: boolean;
  reason: string | null;
  createdAt: Date;
}): TransitionView {
  return {
    id: t.id,
    version: t.version,
    from_phase: t.fromPhase,
    to_phase: t.toPhase,
    from_status: t.fromStatus,
    to_status: t.toStatus,
    event: t.eventType,
    source: t.source,
    payload: t.payload ? JSON.parse(t.payload.endsWith('…') ? JSON.stringify(t.payload) : t.payload) : null,
    rejected: t.rejected,
    reason: t.reason,
    created_at: iso(t.createdAt),
  };
}

/**
 * A collection page as Cinder renders it: `<key>` plus `<key>_links` with the next page's URL
 * (same query, marker = last id) when the page is full.
 */
export function collectionPage<T>(requestUrl: string, key: string, items: T[], lastId: string | undefined, limit: number | undefined) {
  const body: Record<string, unknown> = { [key]: items };
  if (limit !== undefined && items.length === limit && lastId !== undefined) {
    const next = new URL(requestUrl);
    next.searchParams.set('marker', lastId);
    body[`${key}_links`] = [{ rel: 'next', href: next.toString() }];
  }
  return body;
}
