/**
 * Response bodies of the REST API. The views (src/api/views.ts) are typed by these schemas, so a
 * view cannot render a field the schema does not have, and the OpenAPI document's responses are
 * generated from them; the document-driven test validates every answer against them.
 *
 * Objects are closed (`strictObject`): a field added to a view must be added here, or the
 * document-driven test fails.
 */
import * as z from 'zod';
import { faultName } from '../../http/faults/index.js';

/** How the views write a time: ISO 8601 in UTC without the zone letter, as Cinder does. */
const timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/);
const id = z.string();
const link = z.strictObject({ rel: z.string(), href: z.string() });
const stringMap = z.record(z.string(), z.string());

export const snapshotViewSchema = z
  .strictObject({
    id,
    created_at: timestamp.nullable(),
    updated_at: timestamp.nullable(),
    name: z.string().nullable(),
    description: z.string().nullable(),
    volume_id: id,
    status: z.string(),
    size: z.int(),
    metadata: stringMap,
    // Detailed views only, each from its microversion (src/api/microversions.ts).
    group_snapshot_id: id.nullable().optional(),
    user_id: z.string().optional(),
    consumes_quota: z.boolean().optional(),
    // Show and the detail list, for callers granted snapshot:extended_attributes.
    'os-extended-snapshot-attributes:progress': z.string().optional(),
    'os-extended-snapshot-attributes:project_id': z.string().optional(),
  })
  .meta({ title: 'Snapshot' });
export type SnapshotView = z.output<typeof snapshotViewSchema>;

export const volumeSummaryViewSchema = z
  .strictObject({ id, name: z.string().nullable(), links: z.array(link) })
  .meta({ title: 'VolumeSummary' });
export type VolumeSummaryView = z.output<typeof volumeSummaryViewSchema>;

const attachmentSchema = z.strictObject({
  id,
  attachment_id: id,
  volume_id: id,
  server_id: z.string().nullable(),
  host_name: z.string().nullable(),
  device: z.string().nullable(),
  attached_at: timestamp.nullable(),
});

export const volumeViewSchema = z
  .strictObject({
    id,
    status: z.string(),
    size: z.int(),
    availability_zone: z.string(),
    created_at: timestamp.nullable(),
    updated_at: timestamp.nullable(),
    name: z.string().nullable(),
    description: z.string().nullable(),
    volume_type: z.string().nullable(),
    snapshot_id: id.nullable(),
    source_volid: id.nullable(),
    metadata: stringMap,
    links: z.array(link),
    user_id: z.string(),
    bootable: z.enum(['true', 'false']),
    encrypted: z.boolean(),
    replication_status: z.string().nullable(),
    consistencygroup_id: id.nullable(),
    multiattach: z.boolean(),
    attachments: z.array(attachmentSchema),
    // Only for callers granted volume:all_tenants (Cinder's is_admin).
    migration_status: z.string().nullable().optional(),
    // Each from its microversion (src/api/microversions.ts).
    group_id: id.nullable().optional(),
    provider_id: z.string().nullable().optional(),
    shared_targets: z.boolean().nullable().optional(),
    service_uuid: z.string().nullable().optional(),
    cluster_name: z.string().nullable().optional(),
    volume_type_id: id.nullable().optional(),
    encryption_key_id: id.optional(),
    consumes_quota: z.boolean().optional(),
    // Show and the detail list only, for callers granted volume:all_tenants.
    'os-vol-tenant-attr:tenant_id': z.string().optional(),
    'os-vol-host-attr:host': z.string().optional(),
    'os-vol-mig-status-attr:migstat': z.string().nullable().optional(),
    'os-vol-mig-status-attr:name_id': id.nullable().optional(),
  })
  .meta({ title: 'Volume' });
export type VolumeView = z.output<typeof volumeViewSchema>;

export const transitionViewSchema = z
  .strictObject({
    id: z.int(),
    version: z.int(),
    from_phase: z.string().nullable(),
    to_phase: z.string(),
    from_status: z.string().nullable(),
    to_status: z.string(),
    event: z.string(),
    source: z.string(),
    // The event as recorded: any JSON, or the recorded text when it was cut short.
    payload: z.unknown(),
    rejected: z.boolean(),
    reason: z.string().nullable(),
    created_at: timestamp.nullable(),
  })
  .meta({ title: 'Transition' });
export type TransitionView = z.output<typeof transitionViewSchema>;

/**
 * A collection page: `<key>` and, when the page is full, `<key>_links` to the next one; `count`
 * (the whole collection's size) from microversion 3.45 when asked with `with_count=true`.
 */
export function collectionPageSchema(key: string, item: z.ZodType) {
  return z.strictObject({ [key]: z.array(item), [`${key}_links`]: z.array(link).optional(), count: z.int().min(0).optional() });
}

/** GET /volumes/summary (3.12), with `metadata` from 3.36. */
export const volumeSummarySchema = z
  .strictObject({
    'volume-summary': z.strictObject({
      total_size: z.int(),
      total_count: z.int(),
      metadata: z.record(z.string(), z.array(z.string())).optional(),
    }),
  })
  .meta({ title: 'VolumeSummaryTotals' });
export type VolumeSummaryTotalsView = z.output<typeof volumeSummarySchema>;

const versionSchema = z.strictObject({
  id: z.string(),
  status: z.string(),
  version: z.string(),
  min_version: z.string(),
  updated: z.string(),
  links: z.array(z.strictObject({ rel: z.string(), href: z.string(), type: z.string().optional() })),
  'media-types': z.array(z.strictObject({ base: z.string(), type: z.string() })),
});
export const versionsDocumentSchema = z.strictObject({ versions: z.array(versionSchema) }).meta({ title: 'Versions' });
export type VersionsDocument = z.output<typeof versionsDocumentSchema>;

/** GET /v3/{project_id}/os-orphan-files: files in the backend that no volume or snapshot owns. */
const orphanFilesSchema = z.strictObject({
  orphan_files: z.array(
    z.strictObject({
      name: z.string(),
      size: z.number().int().min(0),
      modified_at: z.string(),
      reason: z.string(),
    }),
  ),
  scanned_at: z.string(),
});
export type OrphanFilesView = z.output<typeof orphanFilesSchema>;

/** Cinder's volume type view; extra_specs, qos_specs_id and the access flag only where policy grants them. */
const volumeTypeViewSchema = z
  .strictObject({
    id,
    name: z.string(),
    is_public: z.boolean(),
    description: z.string().nullable(),
    extra_specs: stringMap.optional(),
    qos_specs_id: id.nullable().optional(),
    'os-volume-type-access:is_public': z.boolean().optional(),
  })
  .meta({ title: 'VolumeType' });
export type VolumeTypeView = z.output<typeof volumeTypeViewSchema>;

const encryptionFieldsSchema = {
  key_size: z.int().nullable(),
  provider: z.string(),
  control_location: z.enum(['front-end', 'back-end']),
  cipher: z.string().nullable(),
};
/** GET /types/{id}/encryption: the row as Cinder returns it, or {} when the type has none. */
const encryptionViewSchema = z.union([
  z.strictObject({
    volume_type_id: id,
    encryption_id: id,
    ...encryptionFieldsSchema,
    deleted: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp.nullable(),
    deleted_at: timestamp.nullable(),
  }),
  z.strictObject({}),
]);
export type EncryptionView = z.output<typeof encryptionViewSchema>;

const qosViewSchema = z.strictObject({ id, name: z.string(), consumer: z.string(), specs: stringMap }).meta({ title: 'QosSpecs' });
export type QosView = z.output<typeof qosViewSchema>;
/** Limits per resource (os-quota-sets, os-quota-class-sets): Cinder's resources, then `volumes_<type>` and the like. */
const limitsById = z.object({ id: z.string() }).catchall(z.int());
const quotaUsageSchema = z.strictObject({ limit: z.int(), in_use: z.int(), reserved: z.int() });
/** GET /limits: Cinder's absolute limits (views/limits.py) and the used ones (used_limits.py); no rate limits. */
const limitsSchema = z.strictObject({
  limits: z.strictObject({ rate: z.array(z.unknown()), absolute: z.record(z.string(), z.int()) }),
});

export const responseSchemas = {
  volumeType: z.strictObject({ volume_type: volumeTypeViewSchema }),
  volumeTypes: z.strictObject({ volume_types: z.array(volumeTypeViewSchema) }),
  extraSpecs: z.strictObject({ extra_specs: stringMap }),
  /** One extra spec, encryption field or the keys a PUT set: a one-key object. */
  specItem: z.record(z.string(), z.union([z.string(), z.int(), z.null()])),
  typeAccess: z.strictObject({ volume_type_access: z.array(z.strictObject({ volume_type_id: id, project_id: z.string() })) }),
  encryption: encryptionViewSchema,
  encryptionCreated: z.strictObject({ encryption: z.strictObject({ volume_type_id: id, encryption_id: id, ...encryptionFieldsSchema }) }),
  encryptionUpdated: z.strictObject({ encryption: z.strictObject(encryptionFieldsSchema).partial() }),
  qos: z.strictObject({ qos_specs: qosViewSchema, links: z.array(link) }),
  qosList: z.strictObject({ qos_specs: z.array(qosViewSchema) }),
  qosKeys: z.strictObject({ qos_specs: stringMap }),
  qosAssociations: z.strictObject({ qos_associations: z.array(z.strictObject({ association_type: z.literal('volume_type'), id, name: z.string() })) }),

  volume: z.strictObject({ volume: volumeViewSchema }),
  volumeSummaries: collectionPageSchema('volumes', volumeSummaryViewSchema),
  volumeDetails: collectionPageSchema('volumes', volumeViewSchema),
  volumeSummary: volumeSummarySchema,
  connectionInfo: z.strictObject({ connection_info: z.record(z.string(), z.unknown()) }),
  snapshot: z.strictObject({ snapshot: snapshotViewSchema }),
  snapshots: collectionPageSchema('snapshots', snapshotViewSchema),
  metadata: z.strictObject({ metadata: stringMap }),
  metaItem: z.strictObject({ meta: stringMap }),
  adminMetadata: z.strictObject({ admin_metadata: stringMap }),
  transitions: z.strictObject({ transitions: z.array(transitionViewSchema) }),
  orphanFiles: orphanFilesSchema,
  quotaSet: z.strictObject({ quota_set: limitsById }),
  quotaSetUpdated: z.strictObject({ quota_set: z.record(z.string(), z.int()) }),
  quotaSetUsage: z.strictObject({ quota_set: z.object({ id: z.string() }).catchall(quotaUsageSchema) }),
  quotaClassSet: z.strictObject({ quota_class_set: limitsById }),
  quotaClassSetUpdated: z.strictObject({ quota_class_set: z.record(z.string(), z.int()) }),
  limits: limitsSchema,
  versions: versionsDocumentSchema,
};

/**
 * The OpenStack fault of one status: `{"<faultName>": {"code": <status>, "message": "..."}}`. A 413
 * from a limit (VolumeSizeExceedsLimit) repeats its Retry-After in the body, as Cinder's does.
 */
export function faultSchema(status: number) {
  const body = { code: z.literal(status), message: z.string() };
  return z.strictObject({
    [faultName(status)]: status === 413 ? z.strictObject({ ...body, retryAfter: z.string().regex(/^[0-9]+$/).optional() }) : z.strictObject(body),
  });
}
