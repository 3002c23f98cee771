// Cinder v3's JSON views of volumes and snapshots (cinder/api/v3/views). Admin-only fields are
// added only when the caller may see them, and fields that came with a microversion only from
// that version on (the table is microversions.ts). Each view's type is its documented response
// schema (src/api/schemas/responses.ts).
import type { Snapshot, VolumeTypeEncryption } from '../db/client.js';
import type { QosSpecsRow, VolumeSummary, VolumeTypeRow, VolumeWithAttachments } from '../engine/store/index.js';
import { shows, SNAPSHOT_FIELD_GATES, VOLUME_FIELD_GATES } from './microversions.js';
import type { EncryptionView, QosView, SnapshotView, TransitionView, VolumeSummaryTotalsView, VolumeSummaryView, VolumeTypeView, VolumeView } from './schemas/responses.js';
import { MV, supports } from './microversions.js';
import type { ApiVersion } from './version.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace('Z', '') : null);

/** Admin metadata keys Cinder shows among a volume's metadata (cinder/utils.py add_visible_admin_metadata). */
const VISIBLE_ADMIN_METADATA = ['readonly', 'attached_mode'] as const;

export interface ViewContext {
  version: ApiVersion;
  /** Cinder's `context.is_admin`. */
  admin: boolean;
}

export function snapshotView(
  s: Snapshot,
  metadata: Record<string, string>,
  opts: ViewContext & {
    /**
     * Cinder's detailed view (show, create, update, the detail list) rather than the summary
     * (the plain list); only it has the fields added by microversions.
     */
    detail: boolean;
    /** The os-extended-snapshot-attributes fields: only show and the detail list, for callers the policy grants. */
    extended: boolean;
  },
): SnapshotView {
  const gated = (field: keyof typeof SNAPSHOT_FIELD_GATES) => opts.detail && shows(SNAPSHOT_FIELD_GATES, field, opts.version, opts.admin);
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
    // Snapshots of group snapshots are not built: the field is there, and null.
    ...(gated('group_snapshot_id') ? { group_snapshot_id: null } : {}),
    ...(gated('user_id') ? { user_id: s.userId } : {}),
    // Every snapshot of this service counts against its project's quota.
    ...(gated('consumes_quota') ? { consumes_quota: true } : {}),
    ...(opts.extended
      ? {
          'os-extended-snapshot-attributes:progress': s.progress,
          'os-extended-snapshot-attributes:project_id': s.projectId,
        }
      : {}),
  };
}

export function volumeSummaryView(v: { id: string; name: string | null }, selfUrl: string): VolumeSummaryView {
  return { id: v.id, name: v.name, links: [{ rel: 'self', href: selfUrl }] };
}

/** The volume's metadata as Cinder's views show it: the user's keys, then the visible admin keys. */
export function volumeMetadataView(v: Pick<VolumeWithAttachments, 'metadata' | 'adminMetadata'>): Record<string, string> {
  const out: Record<string, string> = Object.fromEntries(v.metadata.map((m) => [m.key, m.value]));
  for (const m of v.adminMetadata) if ((VISIBLE_ADMIN_METADATA as readonly string[]).includes(m.key)) out[m.key] = m.value;
  return out;
}

/** The fields added by a microversion (cinder/api/v3/views/volumes.py `detail`), each behind its gate. */
function gatedVolumeFields(v: VolumeWithAttachments & { encryptionKeyId?: string | null }, ctx: ViewContext) {
  const gated = (field: keyof typeof VOLUME_FIELD_GATES) => shows(VOLUME_FIELD_GATES, field, ctx.version, ctx.admin);
  const key = v.encryptionKeyId ?? null;
  return {
    ...(gated('group_id') ? { group_id: v.groupId } : {}),
    ...(gated('provider_id') ? { provider_id: null } : {}),
    // A file on a shared filesystem: each attachment has its own connection (Cinder's False).
    ...(gated('shared_targets') ? { shared_targets: false } : {}),
    ...(gated('service_uuid') ? { service_uuid: null } : {}),
    ...(gated('cluster_name') ? { cluster_name: null } : {}),
    ...(gated('volume_type_id') ? { volume_type_id: v.volumeTypeId } : {}),
    // Cinder's FIXED_KEY_ID is never shown.
    ...(gated('encryption_key_id') && key !== null && key !== FIXED_KEY_ID ? { encryption_key_id: key } : {}),
    ...(gated('consumes_quota') ? { consumes_quota: true } : {}),
  };
}

/** cinder/common/constants.py FIXED_KEY_ID: the legacy fixed key, which the view hides. */
const FIXED_KEY_ID = '00000000-0000-0000-0000-000000000000';

export function volumeView(
  v: VolumeWithAttachments & { encryptionKeyId?: string | null },
  selfUrl: string,
  opts: ViewContext & {
    /** The attribute extensions (host, tenant, migration): Cinder adds them to show and the detail list only. */
    extensions: boolean;
    /** Cinder's host@backend#pool of the volume (admins only, with the extensions). */
    host: string;
  },
): VolumeView {
  return {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: 'nova',
    created_at: iso(v.createdAt),
    updated_at: iso(v.updatedAt),
    name: v.name,
    description: v.description,
    volume_type: v.volumeType?.name ?? null,
    snapshot_id: v.snapshotId ?? null,
    source_volid: v.sourceVolid ?? null,
    metadata: volumeMetadataView(v),
    links: [{ rel: 'self', href: selfUrl }],
    user_id: v.userId,
    bootable: v.bootable ? 'true' : 'false',
    encrypted: (v.encryptionKeyId ?? null) !== null,
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
    ...(opts.admin ? { migration_status: null } : {}),
    ...gatedVolumeFields(v, opts),
    // Cinder shows the owning project to whoever may read the volume (volume_tenant_attribute:
    // reader of the project), the host and migration attributes to admins only.
    ...(opts.extensions ? { 'os-vol-tenant-attr:tenant_id': v.projectId } : {}),
    ...(opts.admin && opts.extensions
      ? {
          'os-vol-host-attr:host': opts.host,
          'os-vol-mig-status-attr:migstat': null,
          'os-vol-mig-status-attr:name_id': null,
        }
      : {}),
  };
}

/** cinder/api/v3/views/volumes.py quick_summary: the metadata from 3.36 on. */
export function volumeSummaryTotalsView(summary: VolumeSummary, version: ApiVersion): VolumeSummaryTotalsView {
  return {
    'volume-summary': {
      total_count: summary.count,
      total_size: summary.totalSize,
      ...(supports(version, MV.VOLUME_SUMMARY_METADATA) ? { metadata: summary.metadata } : {}),
    },
  };
}

/**
 * Cinder's volume type view. Which optional fields appear is policy's (the extra specs, the QoS
 * id, the access flag); `base` is the view of the create and update answers, built by Cinder's
 * older view builder: extra specs always, no QoS id.
 */
export function volumeTypeView(
  t: VolumeTypeRow,
  opts: { extraSpecs: boolean; qosSpecsId: boolean; access: boolean },
): VolumeTypeView {
  return {
    id: t.id,
    name: t.name,
    is_public: t.isPublic,
    description: t.description,
    ...(opts.extraSpecs ? { extra_specs: t.extraSpecs } : {}),
    ...(opts.qosSpecsId ? { qos_specs_id: t.qosSpecsId } : {}),
    ...(opts.access ? { 'os-volume-type-access:is_public': t.isPublic } : {}),
  };
}

/** A type's encryption row as Cinder returns it (every column), or {} when it has none. */
export function encryptionView(e: VolumeTypeEncryption | null): EncryptionView {
  if (!e) return {};
  return {
    volume_type_id: e.volumeTypeId,
    encryption_id: e.encryptionId,
    key_size: e.keySize,
    provider: e.provider,
    control_location: e.controlLocation as 'front-end' | 'back-end',
    cipher: e.cipher,
    deleted: e.deleted,
    created_at: iso(e.createdAt)!,
    updated_at: iso(e.updatedAt),
    deleted_at: iso(e.deletedAt),
  };
}

export function qosView(q: QosSpecsRow): QosView {
  return { id: q.id, name: q.name, consumer: q.consumer, specs: q.specs };
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
 * (same query, marker = last id) when the page is full, and `count` when the route was asked for
 * it (microversions.ts gates it).
 */
export function collectionPage<T>(requestUrl: string, key: string, items: T[], lastId: string | undefined, limit: number | undefined, count?: number) {
  const body: Record<string, unknown> = { [key]: items };
  if (count !== undefined) body.count = count;
  if (limit !== undefined && items.length === limit && lastId !== undefined) {
    const next = new URL(requestUrl);
    next.searchParams.set('marker', lastId);
    body[`${key}_links`] = [{ rel: 'next', href: next.toString() }];
  }
  return body;
}
