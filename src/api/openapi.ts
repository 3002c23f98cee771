/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from one table of operations
 * (`apiOperations`) that names the zod schemas the routes validate with (src/api/schemas) and
 * the response schemas the views are typed by (src/api/schemas/responses.ts). Nothing in it is
 * written twice: parameters, bodies and responses are z.toJSONSchema of those schemas, and the
 * fault statuses of an operation follow from what it is (public or not, with a body or not, with
 * an id or not). test/api/openapi.test.ts checks that the table and createApp's routes are the
 * same set; test/api/openapi-conformance.test.ts drives every operation from the document.
 */
import * as z from 'zod';
import { faultName } from '../http/faults/index.js';
import {
  encryptionCreateSchema,
  encryptionUpdateSchema,
  extraSpecsCreateSchema,
  extraSpecUpdateSchema,
  METADATA_KEY_PATTERN,
  qosCreateSchema,
  qosDeleteQuerySchema,
  qosSetSchema,
  qosTypeQuerySchema,
  qosUnsetSchema,
  snapshotActionSchemas,
  snapshotCreateSchema,
  snapshotListQuerySchema,
  snapshotMetadataBodySchema,
  snapshotMetaItemBodySchema,
  snapshotUpdateSchema,
  typeActionSchemas,
  typeListQuerySchema,
  limitsQuerySchema,
  quotaClassSetUpdateSchema,
  quotaSetUpdateSchema,
  quotaShowQuerySchema,
  transferAcceptSchema,
  transferCreateSchema,
  transferListQuerySchema,
  transferResponseSchemas,
  uuidSchema,
  volumeActionSchemas,
  volumeCreateSchema,
  volumeDeleteQuerySchema,
  volumeListQuerySchema,
  volumeTypeCreateSchema,
  volumeTypeUpdateSchema,
  volumeSummaryQuerySchema,
  volumeUpdateSchema,
  groupActionSchemas,
  groupCreateFromSrcSchema,
  groupCreateSchema,
  groupSnapshotActionSchemas,
  groupSnapshotCreateSchema,
  groupSpecItemSchema,
  groupSpecsSchema,
  groupTypeCreateSchema,
  groupTypeListQuerySchema,
  groupTypeUpdateSchema,
  groupUpdateSchema,
} from './schemas/index.js';
import {
  availabilityZonesSchema,
  capabilitiesSchema,
  extensionsSchema,
  hostListQuerySchema,
  hostSchema,
  hostsSchema,
  messageSchema,
  messagesSchema,
  poolListQuerySchema,
  poolsSchema,
  serviceActionSchemas,
  serviceChangedSchema,
  serviceListQuerySchema,
  servicesSchema,
} from './schemas/operator.js';
import { groupResponseSchemas } from './schemas/group-responses.js';
import { faultSchema, responseSchemas } from './schemas/responses.js';
import { API_VERSION_HEADER, MAX_API_VERSION, MIN_API_VERSION } from './version.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/** A success answer: its description and body schema (none: an empty body). */
interface Success {
  description: string;
  body?: z.ZodType;
}

export interface ApiOperation {
  method: HttpMethod;
  /** OpenAPI path template; `{project_id}`, `{id}` and `{key}` are the path parameters. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'volumes' | 'snapshots' | 'types' | 'qos-specs' | 'quotas' | 'versions' | 'health' | 'operator' | 'groups' | 'transfers';
  /** A list query schema: its input object's properties are the query parameters. */
  query?: z.ZodType;
  /** The body schema, or the schema of each action of POST .../action (a oneOf). */
  body?: z.ZodType | Readonly<Record<string, z.ZodType>>;
  success: Readonly<Record<number, Success>>;
  /** Version discovery: no token, no project. */
  public?: true;
  /** Answers 404 for a resource named in the body (POST /snapshots: the volume; POST /volumes: the type). */
  bodyNamesResource?: true;
  /**
   * Why the operation never succeeds in this deployment (it answers as Cinder does for a backend
   * without the feature); the document-driven test then does not wait for a success.
   */
  refusedByDesign?: string;
  /** Answers 404 for what is not in its path's {id}/{host}: a microversion below the resource's, a service not found. */
  mayBeMissing?: true;
  /** A public operation that answers 503 when the instance should get no requests (/readyz). */
  mayBeUnavailable?: true;
  /** The microversion the operation came in with; below it the answer is 404. */
  minVersion?: string;
  /** May answer 409: a name or grant that exists already (a volume type's, a group type's). */
  mayConflict?: true;
  /** Answers 404 without an id in the path: a list's `marker` names no row, or the route is newer than the microversion. */
  mayBeNotFound?: true;
}

const VOLUMES = '/v3/{project_id}/volumes';
const SNAPSHOTS = '/v3/{project_id}/snapshots';
const TYPES = '/v3/{project_id}/types';
const QOS = '/v3/{project_id}/qos-specs';
const QUOTA_SETS = '/v3/{project_id}/os-quota-sets';
const QUOTA_CLASS_SETS = '/v3/{project_id}/os-quota-class-sets';
const GROUP_TYPES = '/v3/{project_id}/group_types';
const GROUPS = '/v3/{project_id}/groups';
const GROUP_SNAPSHOTS = '/v3/{project_id}/group_snapshots';
const accepted: Success = { description: 'Accepted' };

/** Every operation of the API; createApp registers exactly these routes. */
export const apiOperations: readonly ApiOperation[] = [
  { method: 'get', path: '/', operationId: 'listVersions', summary: 'Version discovery', tag: 'versions', public: true, success: { 300: { description: 'Multiple choices: the API versions', body: responseSchemas.versions } } },
  { method: 'get', path: '/v3', operationId: 'showVersionV3', summary: 'The v3 API version', tag: 'versions', public: true, success: { 200: { description: 'The v3 version', body: responseSchemas.versions } } },
  { method: 'get', path: '/v3/', operationId: 'showVersionV3Slash', summary: 'The v3 API version', tag: 'versions', public: true, success: { 200: { description: 'The v3 version', body: responseSchemas.versions } } },
  { method: 'get', path: '/healthz', operationId: 'health', summary: 'Liveness for a load balancer: the process answers HTTP', tag: 'health', public: true, success: { 200: { description: 'Alive', body: z.object({ status: z.literal('ok') }) } } },
  { method: 'get', path: '/readyz', operationId: 'readiness', summary: 'Readiness for a load balancer: the database answers and has every committed migration, and the instance is not stopping (503 otherwise, with the reason)', tag: 'health', public: true, mayBeUnavailable: true, success: { 200: { description: 'Ready for requests', body: z.object({ status: z.literal('ready') }) } } },
  { method: 'get', path: '/openapi.json', operationId: 'openApiDocument', summary: 'This document', tag: 'versions', public: true, success: { 200: { description: 'The OpenAPI 3.1 document', body: z.looseObject({ openapi: z.literal('3.1.0') }) } } },

  { method: 'get', path: VOLUMES, operationId: 'listVolumes', mayBeNotFound: true, summary: 'List volumes (summary)', tag: 'volumes', query: volumeListQuerySchema, success: { 200: { description: 'A page of volumes', body: responseSchemas.volumeSummaries } } },
  { method: 'post', path: VOLUMES, operationId: 'createVolume', summary: 'Create a volume: blank, or from a snapshot (snapshot_id) or a volume (source_volid); of the named volume type (else the source\'s, else the default one); in a group: group_id, 3.13', tag: 'volumes', body: volumeCreateSchema, bodyNamesResource: true, success: { 202: { description: 'The volume, being created', body: responseSchemas.volume } } },
  { method: 'get', path: `${VOLUMES}/detail`, operationId: 'listVolumesDetail', mayBeNotFound: true, summary: 'List volumes (detail)', tag: 'volumes', query: volumeListQuerySchema, success: { 200: { description: 'A page of volumes', body: responseSchemas.volumeDetails } } },
  { method: 'get', path: `${VOLUMES}/summary`, operationId: 'showVolumeSummary', mayBeNotFound: true, summary: 'Count, total size and (3.36) distinct metadata of the volumes; microversion 3.12 and later (before: 404)', tag: 'volumes', query: volumeSummaryQuerySchema, success: { 200: { description: 'The summary', body: responseSchemas.volumeSummary } } },
  { method: 'get', path: `${VOLUMES}/{id}/metadata`, operationId: 'showVolumeMetadata', summary: 'Show volume metadata', tag: 'volumes', success: { 200: { description: 'The metadata', body: responseSchemas.metadata } } },
  { method: 'post', path: `${VOLUMES}/{id}/metadata`, operationId: 'mergeVolumeMetadata', summary: 'Merge volume metadata', tag: 'volumes', body: snapshotMetadataBodySchema, success: { 200: { description: 'All the metadata', body: responseSchemas.metadata } } },
  { method: 'put', path: `${VOLUMES}/{id}/metadata`, operationId: 'replaceVolumeMetadata', summary: 'Replace volume metadata', tag: 'volumes', body: snapshotMetadataBodySchema, success: { 200: { description: 'All the metadata', body: responseSchemas.metadata } } },
  { method: 'get', path: `${VOLUMES}/{id}/metadata/{key}`, operationId: 'showVolumeMetadataItem', summary: 'Show one volume metadata item', tag: 'volumes', success: { 200: { description: 'The item', body: responseSchemas.metaItem } } },
  {
    method: 'put',
    path: `${VOLUMES}/{id}/metadata/{key}`,
    operationId: 'setVolumeMetadataItem',
    summary: "Set one volume metadata item (the body's one key must be the path's key)",
    tag: 'volumes',
    body: snapshotMetaItemBodySchema,
    success: { 200: { description: 'The item', body: responseSchemas.metaItem } },
  },
  { method: 'delete', path: `${VOLUMES}/{id}/metadata/{key}`, operationId: 'deleteVolumeMetadataItem', summary: 'Delete one volume metadata item', tag: 'volumes', success: { 200: { description: 'Deleted' } } },
  { method: 'get', path: `${VOLUMES}/{id}`, operationId: 'showVolume', summary: 'Show a volume', tag: 'volumes', success: { 200: { description: 'The volume', body: responseSchemas.volume } } },
  { method: 'put', path: `${VOLUMES}/{id}`, operationId: 'updateVolume', summary: 'Update a volume', tag: 'volumes', body: volumeUpdateSchema, success: { 200: { description: 'The volume', body: responseSchemas.volume } } },
  { method: 'delete', path: `${VOLUMES}/{id}`, operationId: 'deleteVolume', summary: 'Delete a volume (cascade=true: its snapshots first)', tag: 'volumes', query: volumeDeleteQuerySchema, success: { 202: accepted } },
  { method: 'get', path: `${VOLUMES}/{id}/transitions`, operationId: 'listVolumeTransitions', summary: 'Admin: the volume state machine history, oldest first', tag: 'volumes', success: { 200: { description: 'The history', body: responseSchemas.transitions } } },
  {
    method: 'post',
    path: `${VOLUMES}/{id}/action`,
    operationId: 'volumeAction',
    summary: `Volume action: ${Object.keys(volumeActionSchemas).join(', ')} (os-extend: detached volumes only)`,
    tag: 'volumes',
    body: volumeActionSchemas,
    success: {
      200: { description: 'os-initialize_connection: the connection info; os-set_bootable: an empty body', body: responseSchemas.connectionInfo },
      202: accepted,
    },
  },

  { method: 'get', path: SNAPSHOTS, operationId: 'listSnapshots', mayBeNotFound: true, summary: 'List snapshots', tag: 'snapshots', query: snapshotListQuerySchema, success: { 200: { description: 'A page of snapshots', body: responseSchemas.snapshots } } },
  { method: 'post', path: SNAPSHOTS, operationId: 'createSnapshot', summary: 'Create a snapshot', tag: 'snapshots', body: snapshotCreateSchema, bodyNamesResource: true, success: { 202: { description: 'The snapshot, being created', body: responseSchemas.snapshot } } },
  { method: 'get', path: `${SNAPSHOTS}/detail`, operationId: 'listSnapshotsDetail', mayBeNotFound: true, summary: 'List snapshots (detail: with the fields of later microversions and the extended attributes)', tag: 'snapshots', query: snapshotListQuerySchema, success: { 200: { description: 'A page of snapshots', body: responseSchemas.snapshots } } },
  { method: 'get', path: `${SNAPSHOTS}/{id}`, operationId: 'showSnapshot', summary: 'Show a snapshot', tag: 'snapshots', success: { 200: { description: 'The snapshot', body: responseSchemas.snapshot } } },
  { method: 'put', path: `${SNAPSHOTS}/{id}`, operationId: 'updateSnapshot', summary: 'Update name and description', tag: 'snapshots', body: snapshotUpdateSchema, success: { 200: { description: 'The snapshot', body: responseSchemas.snapshot } } },
  { method: 'delete', path: `${SNAPSHOTS}/{id}`, operationId: 'deleteSnapshot', summary: 'Delete a snapshot', tag: 'snapshots', success: { 202: accepted } },
  {
    method: 'post',
    path: `${SNAPSHOTS}/{id}/action`,
    operationId: 'snapshotAction',
    summary: 'Snapshot action: os-update_snapshot_status (the compute callback), os-reset_status, os-force_delete, os-reconcile (admin; an extension: an error / error_deleting snapshot is reconciled with the files)',
    tag: 'snapshots',
    body: snapshotActionSchemas,
    success: { 202: accepted },
  },
  { method: 'get', path: `${SNAPSHOTS}/{id}/metadata`, operationId: 'showSnapshotMetadata', summary: 'Show snapshot metadata', tag: 'snapshots', success: { 200: { description: 'The metadata', body: responseSchemas.metadata } } },
  { method: 'post', path: `${SNAPSHOTS}/{id}/metadata`, operationId: 'mergeSnapshotMetadata', summary: 'Merge snapshot metadata', tag: 'snapshots', body: snapshotMetadataBodySchema, success: { 200: { description: 'All the metadata', body: responseSchemas.metadata } } },
  { method: 'put', path: `${SNAPSHOTS}/{id}/metadata`, operationId: 'replaceSnapshotMetadata', summary: 'Replace snapshot metadata', tag: 'snapshots', body: snapshotMetadataBodySchema, success: { 200: { description: 'All the metadata', body: responseSchemas.metadata } } },
  { method: 'get', path: `${SNAPSHOTS}/{id}/metadata/{key}`, operationId: 'showSnapshotMetadataItem', summary: 'Show one metadata item', tag: 'snapshots', success: { 200: { description: 'The item', body: responseSchemas.metaItem } } },
  {
    method: 'put',
    path: `${SNAPSHOTS}/{id}/metadata/{key}`,
    operationId: 'setSnapshotMetadataItem',
    summary: "Set one metadata item (the body's one key must be the path's key)",
    tag: 'snapshots',
    body: snapshotMetaItemBodySchema,
    success: { 200: { description: 'The item', body: responseSchemas.metaItem } },
  },
  { method: 'delete', path: `${SNAPSHOTS}/{id}/metadata/{key}`, operationId: 'deleteSnapshotMetadataItem', summary: 'Delete one metadata item', tag: 'snapshots', success: { 200: { description: 'Deleted' } } },
  { method: 'get', path: `${SNAPSHOTS}/{id}/admin_metadata`, operationId: 'showSnapshotAdminMetadata', summary: 'Admin: snapshot admin metadata (compute_snapshot_status, create_info, ...)', tag: 'snapshots', success: { 200: { description: 'The admin metadata', body: responseSchemas.adminMetadata } } },
  { method: 'get', path: `${SNAPSHOTS}/{id}/transitions`, operationId: 'listSnapshotTransitions', summary: 'Admin: the snapshot state machine history, oldest first', tag: 'snapshots', success: { 200: { description: 'The history', body: responseSchemas.transitions } } },
  { method: 'get', path: TYPES, operationId: 'listVolumeTypes', summary: 'List volume types (admins: is_public=true|false|none)', tag: 'types', query: typeListQuerySchema, success: { 200: { description: 'The types', body: responseSchemas.volumeTypes } } },
  { method: 'post', path: TYPES, operationId: 'createVolumeType', summary: 'Admin: create a volume type', tag: 'types', body: volumeTypeCreateSchema, mayConflict: true, success: { 200: { description: 'The type', body: responseSchemas.volumeType } } },
  { method: 'get', path: `${TYPES}/default`, operationId: 'showDefaultVolumeType', summary: 'Show the default volume type (__DEFAULT__)', tag: 'types', success: { 200: { description: 'The type', body: responseSchemas.volumeType } } },
  { method: 'get', path: `${TYPES}/{id}`, operationId: 'showVolumeType', summary: 'Show a volume type', tag: 'types', success: { 200: { description: 'The type', body: responseSchemas.volumeType } } },
  { method: 'put', path: `${TYPES}/{id}`, operationId: 'updateVolumeType', summary: 'Admin: update a volume type', tag: 'types', body: volumeTypeUpdateSchema, mayConflict: true, success: { 200: { description: 'The type', body: responseSchemas.volumeType } } },
  { method: 'delete', path: `${TYPES}/{id}`, operationId: 'deleteVolumeType', summary: 'Admin: delete a volume type (not the default one, not one in use)', tag: 'types', success: { 202: accepted } },
  { method: 'get', path: `${TYPES}/{id}/extra_specs`, operationId: 'listExtraSpecs', summary: "A volume type's extra specs", tag: 'types', success: { 200: { description: 'The extra specs', body: responseSchemas.extraSpecs } } },
  { method: 'post', path: `${TYPES}/{id}/extra_specs`, operationId: 'setExtraSpecs', summary: 'Admin: set extra specs (refused while the type is in use)', tag: 'types', body: extraSpecsCreateSchema, success: { 200: { description: 'The extra specs set', body: responseSchemas.extraSpecs } } },
  { method: 'get', path: `${TYPES}/{id}/extra_specs/{key}`, operationId: 'showExtraSpec', summary: 'One extra spec', tag: 'types', success: { 200: { description: 'The extra spec', body: responseSchemas.specItem } } },
  { method: 'put', path: `${TYPES}/{id}/extra_specs/{key}`, operationId: 'updateExtraSpec', summary: 'Admin: set one extra spec (the body names the key of the URL)', tag: 'types', body: extraSpecUpdateSchema, success: { 200: { description: 'The extra spec set', body: responseSchemas.specItem } } },
  { method: 'delete', path: `${TYPES}/{id}/extra_specs/{key}`, operationId: 'deleteExtraSpec', summary: 'Admin: delete one extra spec', tag: 'types', success: { 202: accepted } },
  { method: 'get', path: `${TYPES}/{id}/os-volume-type-access`, operationId: 'listVolumeTypeAccess', summary: 'Admin: the projects a private type is shared with', tag: 'types', success: { 200: { description: 'The access list', body: responseSchemas.typeAccess } } },
  { method: 'post', path: `${TYPES}/{id}/action`, operationId: 'volumeTypeAction', summary: 'Admin: addProjectAccess, removeProjectAccess', tag: 'types', body: typeActionSchemas, mayConflict: true, success: { 202: accepted } },
  { method: 'get', path: `${TYPES}/{id}/encryption`, operationId: 'showEncryption', summary: "Admin: a type's encryption spec ({} if none)", tag: 'types', success: { 200: { description: 'The encryption spec', body: responseSchemas.encryption } } },
  { method: 'post', path: `${TYPES}/{id}/encryption`, operationId: 'createEncryption', summary: "Admin: create a type's encryption spec", tag: 'types', body: encryptionCreateSchema, success: { 200: { description: 'The encryption spec', body: responseSchemas.encryptionCreated } } },
  { method: 'get', path: `${TYPES}/{id}/encryption/{key}`, operationId: 'showEncryptionItem', summary: "Admin: one field of a type's encryption spec", tag: 'types', success: { 200: { description: 'The field', body: responseSchemas.specItem } } },
  { method: 'put', path: `${TYPES}/{id}/encryption/{key}`, operationId: 'updateEncryption', summary: "Admin: update a type's encryption spec (the last segment is Cinder's encryption id and is not read)", tag: 'types', body: encryptionUpdateSchema, success: { 200: { description: 'The fields sent', body: responseSchemas.encryptionUpdated } } },
  { method: 'delete', path: `${TYPES}/{id}/encryption/{key}`, operationId: 'deleteEncryption', summary: "Admin: delete a type's encryption spec", tag: 'types', success: { 202: accepted } },

  { method: 'get', path: QOS, operationId: 'listQosSpecs', summary: 'Admin: list QoS specs', tag: 'qos-specs', success: { 200: { description: 'The QoS specs', body: responseSchemas.qosList } } },
  { method: 'post', path: QOS, operationId: 'createQosSpecs', summary: 'Admin: create QoS specs (every key but name and consumer is a spec)', tag: 'qos-specs', body: qosCreateSchema, mayConflict: true, success: { 200: { description: 'The QoS specs', body: responseSchemas.qos } } },
  { method: 'get', path: `${QOS}/{id}`, operationId: 'showQosSpecs', summary: 'Admin: show QoS specs', tag: 'qos-specs', success: { 200: { description: 'The QoS specs', body: responseSchemas.qos } } },
  { method: 'put', path: `${QOS}/{id}`, operationId: 'setQosKeys', summary: 'Admin: set keys (consumer included)', tag: 'qos-specs', body: qosSetSchema, success: { 200: { description: 'The keys set', body: responseSchemas.qosKeys } } },
  { method: 'delete', path: `${QOS}/{id}`, operationId: 'deleteQosSpecs', summary: 'Admin: delete QoS specs (force=true disassociates them first)', tag: 'qos-specs', query: qosDeleteQuerySchema, success: { 202: accepted } },
  { method: 'put', path: `${QOS}/{id}/delete_keys`, operationId: 'unsetQosKeys', summary: 'Admin: delete keys', tag: 'qos-specs', body: qosUnsetSchema, success: { 202: accepted } },
  { method: 'get', path: `${QOS}/{id}/associations`, operationId: 'listQosAssociations', summary: 'Admin: the volume types associated with the QoS specs', tag: 'qos-specs', success: { 200: { description: 'The associations', body: responseSchemas.qosAssociations } } },
  { method: 'get', path: `${QOS}/{id}/associate`, operationId: 'associateQos', summary: 'Admin: associate with a volume type (vol_type_id)', tag: 'qos-specs', query: qosTypeQuerySchema, success: { 202: accepted } },
  { method: 'get', path: `${QOS}/{id}/disassociate`, operationId: 'disassociateQos', summary: 'Admin: disassociate from a volume type (vol_type_id)', tag: 'qos-specs', query: qosTypeQuerySchema, success: { 202: accepted } },
  { method: 'get', path: `${QOS}/{id}/disassociate_all`, operationId: 'disassociateAllQos', summary: 'Admin: disassociate from every volume type', tag: 'qos-specs', success: { 202: accepted } },

  {
    method: 'get',
    path: '/v3/{project_id}/os-orphan-files',
    operationId: 'listOrphanFiles',
    summary: 'Admin (an extension): files in the backend that no volume or snapshot owns, scanned now; they are never removed',
    tag: 'volumes',
    success: { 200: { description: 'The orphan files', body: responseSchemas.orphanFiles } },
  },

  {
    method: 'get',
    path: `${QUOTA_SETS}/{target_project_id}`,
    operationId: 'showQuotaSet',
    summary: "A project's quotas; with usage=true, each with in_use and reserved (always 0: creates are counted in the transaction that inserts them)",
    tag: 'quotas',
    query: quotaShowQuerySchema,
    success: { 200: { description: 'The quota set (usage=true: quotaSetUsage)', body: z.union([responseSchemas.quotaSet, responseSchemas.quotaSetUsage]) } },
  },
  { method: 'get', path: `${QUOTA_SETS}/{target_project_id}/defaults`, operationId: 'showDefaultQuotaSet', summary: 'The default quotas (the default quota class over the QUOTA_* settings)', tag: 'quotas', success: { 200: { description: 'The defaults', body: responseSchemas.quotaSet } } },
  { method: 'put', path: `${QUOTA_SETS}/{target_project_id}`, operationId: 'updateQuotaSet', summary: "Admin: set a project's quotas", tag: 'quotas', body: quotaSetUpdateSchema, success: { 200: { description: "The project's quotas after", body: responseSchemas.quotaSetUpdated } } },
  { method: 'delete', path: `${QUOTA_SETS}/{target_project_id}`, operationId: 'deleteQuotaSet', summary: "Admin: remove a project's quotas (it follows the defaults again)", tag: 'quotas', success: { 200: { description: 'Deleted' } } },
  { method: 'get', path: `${QUOTA_CLASS_SETS}/{class_name}`, operationId: 'showQuotaClassSet', summary: "Admin: a quota class's limits (the class `default` is every project's default)", tag: 'quotas', success: { 200: { description: 'The quota class set', body: responseSchemas.quotaClassSet } } },
  { method: 'put', path: `${QUOTA_CLASS_SETS}/{class_name}`, operationId: 'updateQuotaClassSet', summary: "Admin: set a quota class's limits", tag: 'quotas', body: quotaClassSetUpdateSchema, success: { 200: { description: 'The class after', body: responseSchemas.quotaClassSetUpdated } } },
  {
    method: 'get',
    path: '/v3/{project_id}/limits',
    operationId: 'showLimits',
    summary: "The absolute limits (and, under limits:used_limits, what is used) of the caller's project; an admin may name another (project_id, 3.39 on)",
    tag: 'quotas',
    query: limitsQuerySchema,
    success: { 200: { description: 'The limits', body: responseSchemas.limits } },
  },

  // Operator resources (src/api/routes/operator.ts).
  { method: 'get', path: '/v3/{project_id}/extensions', operationId: 'listExtensions', summary: 'The API extensions this service implements', tag: 'operator', success: { 200: { description: 'The extensions', body: extensionsSchema } } },
  { method: 'get', path: '/v3/{project_id}/os-availability-zone', operationId: 'listAvailabilityZones', summary: 'The availability zones of the enabled volume services', tag: 'operator', success: { 200: { description: 'The zones', body: availabilityZonesSchema } } },
  { method: 'get', path: '/v3/{project_id}/os-services', operationId: 'listServices', summary: 'Admin: the services (each instance as cinder-scheduler and cinder-volume), with their heartbeat', tag: 'operator', query: serviceListQuerySchema, success: { 200: { description: 'The services', body: servicesSchema } } },
  ...(['enable', 'disable', 'disable-log-reason'] as const).map(
    (action): ApiOperation => ({
      method: 'put',
      path: `/v3/{project_id}/os-services/${action}`,
      operationId: `service_${action.replace(/-/g, '_')}`,
      summary: `Admin: ${action} a service`,
      tag: 'operator',
      body: serviceActionSchemas[action],
      mayBeMissing: true,
      success: { 200: { description: 'The service changed', body: serviceChangedSchema } },
    }),
  ),
  ...(['freeze', 'thaw', 'failover_host', 'failover'] as const).map(
    (action): ApiOperation => ({
      method: 'put',
      path: `/v3/{project_id}/os-services/${action}`,
      operationId: `service_${action}`,
      summary: action.startsWith('failover') ? 'Admin: fail a backend over (refused: the backend has no replication)' : `Admin: ${action} a backend`,
      tag: 'operator',
      ...(action.startsWith('failover') ? { refusedByDesign: 'the backend has no replication, so Cinder refuses its failover (400)' } : {}),
      body: serviceActionSchemas[action],
      success: { 200: { description: 'Done' } },
    }),
  ),
  { method: 'get', path: '/v3/{project_id}/os-hosts', operationId: 'listHosts', summary: 'Admin: the hosts of the enabled services', tag: 'operator', query: hostListQuerySchema, success: { 200: { description: 'The hosts', body: hostsSchema } } },
  { method: 'get', path: '/v3/{project_id}/os-hosts/{host}', operationId: 'showHost', summary: 'Admin: the volumes and snapshots a volume host holds, in total and per project', tag: 'operator', success: { 200: { description: 'The usage', body: hostSchema } } },
  { method: 'get', path: '/v3/{project_id}/scheduler-stats/get_pools', operationId: 'getPools', summary: "Admin: the backend's pools; with detail=true their capacity (statvfs of the share) and capabilities", tag: 'operator', query: poolListQuerySchema, success: { 200: { description: 'The pools', body: poolsSchema } } },
  { method: 'get', path: '/v3/{project_id}/capabilities/{host}', operationId: 'showCapabilities', summary: "Admin: a backend's capabilities (host, host@backend or host@backend#pool)", tag: 'operator', success: { 200: { description: 'The capabilities', body: capabilitiesSchema } } },
  { method: 'get', path: '/v3/{project_id}/messages', operationId: 'listMessages', summary: 'User messages (3.3): what failed for the project', tag: 'operator', mayBeMissing: true, success: { 200: { description: 'The messages', body: messagesSchema } } },
  { method: 'get', path: '/v3/{project_id}/messages/{id}', operationId: 'showMessage', summary: 'Show a user message (3.3)', tag: 'operator', success: { 200: { description: 'The message', body: messageSchema } } },
  { method: 'delete', path: '/v3/{project_id}/messages/{id}', operationId: 'deleteMessage', summary: 'Delete a user message (3.3)', tag: 'operator', success: { 204: { description: 'Deleted' } } },
  ...groupOperations(),
  ...transferOperations('/v3/{project_id}/os-volume-transfer', 'VolumeTransfer'),
  ...transferOperations('/v3/{project_id}/volume-transfers', 'VolumeTransfers355', '3.55'),
];

/** Group types (3.11), groups (3.13) and group snapshots (3.14). */
function groupOperations(): ApiOperation[] {
  const g = (op: Omit<ApiOperation, 'tag'>): ApiOperation => ({ ...op, tag: 'groups' });
  const types = { minVersion: '3.11' };
  const groups = { minVersion: '3.13' };
  const snaps = { minVersion: '3.14' };
  const r = groupResponseSchemas;
  return [
    g({ method: 'get', path: GROUP_TYPES, operationId: 'listGroupTypes', summary: 'List group types', query: groupTypeListQuerySchema, ...types, success: { 200: { description: 'The group types', body: r.groupTypes } } }),
    g({ method: 'post', path: GROUP_TYPES, operationId: 'createGroupType', summary: 'Admin: create a group type', body: groupTypeCreateSchema, mayConflict: true, ...types, success: { 202: { description: 'The group type', body: r.groupType } } }),
    g({ method: 'get', path: `${GROUP_TYPES}/default`, operationId: 'showDefaultGroupType', summary: 'The default group type (404 when the deployment has none)', bodyNamesResource: true, ...types, success: { 200: { description: 'The group type', body: r.groupType } } }),
    g({ method: 'get', path: `${GROUP_TYPES}/{id}`, operationId: 'showGroupType', summary: 'Show a group type', ...types, success: { 200: { description: 'The group type', body: r.groupType } } }),
    g({ method: 'put', path: `${GROUP_TYPES}/{id}`, operationId: 'updateGroupType', summary: 'Admin: update a group type', body: groupTypeUpdateSchema, mayConflict: true, ...types, success: { 200: { description: 'The group type', body: r.groupType } } }),
    g({ method: 'delete', path: `${GROUP_TYPES}/{id}`, operationId: 'deleteGroupType', summary: 'Admin: delete a group type no group uses', ...types, success: { 202: accepted } }),
    g({ method: 'get', path: `${GROUP_TYPES}/{id}/group_specs`, operationId: 'listGroupSpecs', summary: "Admin: a group type's group specs", ...types, success: { 200: { description: 'The group specs', body: r.groupSpecs } } }),
    g({ method: 'post', path: `${GROUP_TYPES}/{id}/group_specs`, operationId: 'setGroupSpecs', summary: 'Admin: create or update group specs', body: groupSpecsSchema, ...types, success: { 202: { description: 'The specs set', body: r.groupSpecs } } }),
    g({ method: 'get', path: `${GROUP_TYPES}/{id}/group_specs/{key}`, operationId: 'showGroupSpec', summary: 'Admin: one group spec', ...types, success: { 200: { description: 'The spec', body: r.groupSpecItem } } }),
    g({ method: 'put', path: `${GROUP_TYPES}/{id}/group_specs/{key}`, operationId: 'setGroupSpec', summary: "Admin: set one group spec (the body's one key must be the path's key)", body: groupSpecItemSchema, ...types, success: { 200: { description: 'The spec', body: r.groupSpecItem } } }),
    g({ method: 'delete', path: `${GROUP_TYPES}/{id}/group_specs/{key}`, operationId: 'deleteGroupSpec', summary: 'Admin: delete one group spec', ...types, success: { 202: accepted } }),

    g({ method: 'get', path: GROUPS, operationId: 'listGroups', summary: 'List groups (summary)', ...groups, success: { 200: { description: 'The groups', body: r.groupSummaries } } }),
    g({ method: 'post', path: GROUPS, operationId: 'createGroup', summary: 'Create a group', body: groupCreateSchema, bodyNamesResource: true, ...groups, success: { 202: { description: 'The group', body: r.groupCreated } } }),
    g({ method: 'post', path: `${GROUPS}/action`, operationId: 'createGroupFromSource', summary: 'Create a group from a group snapshot (group_snapshot_id) or a group (source_group_id), one volume per source member, 3.14', body: groupCreateFromSrcSchema, minVersion: '3.14', success: { 202: { description: 'The group, being created', body: r.groupCreated } } }),
    g({ method: 'get', path: `${GROUPS}/detail`, operationId: 'listGroupsDetail', summary: 'List groups (detail)', ...groups, success: { 200: { description: 'The groups', body: r.groupDetails } } }),
    g({ method: 'get', path: `${GROUPS}/{id}`, operationId: 'showGroup', summary: 'Show a group', ...groups, success: { 200: { description: 'The group', body: r.group } } }),
    g({ method: 'put', path: `${GROUPS}/{id}`, operationId: 'updateGroup', summary: 'Update a group: name, description, add_volumes, remove_volumes', body: groupUpdateSchema, ...groups, success: { 202: accepted } }),
    g({ method: 'post', path: `${GROUPS}/{id}/action`, operationId: 'groupAction', summary: 'Group action: delete (with delete-volumes), reset_status (admin, 3.20)', body: groupActionSchemas, ...groups, success: { 202: accepted } }),
    g({ method: 'get', path: `${GROUPS}/{id}/transitions`, operationId: 'listGroupTransitions', summary: 'Admin: the group state machine history, oldest first', ...groups, success: { 200: { description: 'The history', body: responseSchemas.transitions } } }),

    g({ method: 'get', path: GROUP_SNAPSHOTS, operationId: 'listGroupSnapshots', summary: 'List group snapshots (summary)', ...snaps, success: { 200: { description: 'The group snapshots', body: r.groupSnapshotSummaries } } }),
    g({ method: 'post', path: GROUP_SNAPSHOTS, operationId: 'createGroupSnapshot', summary: "Create a group snapshot: one snapshot per volume of the group, each on its own machine", body: groupSnapshotCreateSchema, bodyNamesResource: true, ...snaps, success: { 202: { description: 'The group snapshot', body: r.groupSnapshotCreated } } }),
    g({ method: 'get', path: `${GROUP_SNAPSHOTS}/detail`, operationId: 'listGroupSnapshotsDetail', summary: 'List group snapshots (detail)', ...snaps, success: { 200: { description: 'The group snapshots', body: r.groupSnapshotDetails } } }),
    g({ method: 'get', path: `${GROUP_SNAPSHOTS}/{id}`, operationId: 'showGroupSnapshot', summary: 'Show a group snapshot', ...snaps, success: { 200: { description: 'The group snapshot', body: r.groupSnapshot } } }),
    g({ method: 'delete', path: `${GROUP_SNAPSHOTS}/{id}`, operationId: 'deleteGroupSnapshot', summary: 'Delete a group snapshot and its member snapshots', ...snaps, success: { 202: accepted } }),
    g({ method: 'post', path: `${GROUP_SNAPSHOTS}/{id}/action`, operationId: 'groupSnapshotAction', summary: 'Group snapshot action: reset_status (admin, 3.19)', body: groupSnapshotActionSchemas, ...snaps, success: { 202: accepted } }),
    g({ method: 'get', path: `${GROUP_SNAPSHOTS}/{id}/transitions`, operationId: 'listGroupSnapshotTransitions', summary: 'Admin: the group snapshot state machine history, oldest first', ...snaps, success: { 200: { description: 'The history', body: responseSchemas.transitions } } }),
  ];
}

/** The same five operations under both transfer URLs; the newer exists from 3.55. */
function transferOperations(base: string, suffix: string, minVersion?: string): ApiOperation[] {
  const at = minVersion ? ` (from ${minVersion})` : '';
  const common = { tag: 'transfers' as const, ...(minVersion ? { minVersion } : {}) };
  return [
    { method: 'get', path: base, operationId: `list${suffix}`, summary: `List volume transfers${at}`, query: transferListQuerySchema, success: { 200: { description: 'The transfers', body: transferResponseSchemas.transferSummaries } }, ...common },
    { method: 'get', path: `${base}/detail`, operationId: `list${suffix}Detail`, summary: `List volume transfers (detail)${at}`, query: transferListQuerySchema, success: { 200: { description: 'The transfers', body: transferResponseSchemas.transferDetails } }, ...common },
    { method: 'post', path: base, operationId: `create${suffix}`, summary: `Offer a volume to another project; the answer holds the auth key, shown once${at}`, body: transferCreateSchema, bodyNamesResource: true, success: { 202: { description: 'The transfer', body: transferResponseSchemas.transferCreated } }, ...common },
    { method: 'get', path: `${base}/{id}`, operationId: `show${suffix}`, summary: `Show a volume transfer${at}`, success: { 200: { description: 'The transfer', body: transferResponseSchemas.transfer } }, ...common },
    { method: 'delete', path: `${base}/{id}`, operationId: `delete${suffix}`, summary: `Withdraw a volume transfer${at}`, success: { 202: accepted }, ...common },
    { method: 'post', path: `${base}/{id}/accept`, operationId: `accept${suffix}`, summary: `Accept a volume transfer with its auth key${at}`, body: transferAcceptSchema, success: { 202: { description: 'The transfer accepted', body: transferResponseSchemas.transferAccepted } }, ...common },
  ];
}

type JsonSchema = Record<string, unknown>;

/** The JSON Schema of what a request may send (`io: 'input'`) or a response holds. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // The document's dialect is 2020-12 already (OpenAPI 3.1), so no per-schema $schema.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const jsonContent = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });

/** "." and ".." are path segments a URL resolves away, so no parameter can be either. */
const NOT_A_DOT_SEGMENT = { not: { enum: ['.', '..'] } };

/** The path parameters, by name; the API answers 404 for an id or key outside its schema. */
const PATH_PARAMETERS: Record<string, { description: string; schema: JsonSchema }> = {
  project_id: {
    description: "The caller's project; another than the token's is refused (400 \"Malformed request url\", as Cinder)",
    schema: { type: 'string', pattern: '^[^/]+$', ...NOT_A_DOT_SEGMENT },
  },
  host: { description: "A service's host: host, host@backend or host@backend#pool", schema: { type: 'string', pattern: '^[^/]+$', ...NOT_A_DOT_SEGMENT } },
  id: { description: 'The id of the volume, snapshot, message, volume type, QoS specs, group, group type, group snapshot or transfer (a UUID; anything else is not found)', schema: jsonSchema(uuidSchema, 'input') },
  target_project_id: { description: 'The project whose quotas these are (any project id; none need exist)', schema: { type: 'string', pattern: '^[^/]+$', ...NOT_A_DOT_SEGMENT } },
  class_name: { description: 'A quota class name (only `default` applies to projects, as in Cinder)', schema: { type: 'string', pattern: '^[^/]+$', ...NOT_A_DOT_SEGMENT } },
  key: { description: 'A metadata key, extra spec key, group spec key or encryption field', schema: { ...jsonSchema(z.string().regex(METADATA_KEY_PATTERN), 'input'), ...NOT_A_DOT_SEGMENT } },
};

const VERSION_HEADER_PARAMETER = {
  name: API_VERSION_HEADER,
  in: 'header',
  required: false,
  description: `Microversion, e.g. "volume 3.66" or "volume latest"; absent: ${MIN_API_VERSION}. Outside ${MIN_API_VERSION}..${MAX_API_VERSION}: 406; malformed: 400.`,
  schema: { type: 'string' },
};

function parameters(op: ApiOperation) {
  const params: object[] = [];
  for (const [, name] of op.path.matchAll(/\{([a-z_]+)\}/g)) {
    const p = PATH_PARAMETERS[name!];
    if (!p) throw new Error(`no schema for path parameter {${name}} of ${op.path}`);
    params.push({ name, in: 'path', required: true, ...p });
  }
  if (op.query) {
    const q = jsonSchema(op.query, 'input') as { properties: Record<string, JsonSchema>; additionalProperties?: unknown };
    for (const [name, schema] of Object.entries(q.properties)) params.push({ name, in: 'query', required: false, schema });
    if (q.additionalProperties !== false) {
      params.push({
        name: 'filters',
        in: 'query',
        required: false,
        style: 'form',
        explode: true,
        description:
          "Any other parameter filters on the field of that name (unknown fields are ignored, as Cinder does). 'sort' cannot be combined with the deprecated 'sort_key'/'sort_dir' (400).",
        schema: { type: 'object', additionalProperties: { type: 'string' } },
      });
    }
  }
  params.push(VERSION_HEADER_PARAMETER);
  return params;
}

function requestBody(body: ApiOperation['body']) {
  if (body === undefined) return undefined;
  const schema =
    body instanceof z.ZodType
      ? jsonSchema(body, 'input')
      : { oneOf: Object.values(body).map((action) => jsonSchema(action, 'input')) };
  return { required: true, ...jsonContent(schema) };
}

const FAULT_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Bad request: the body, a query parameter or the microversion header is refused',
  401: 'No valid token (keystone)',
  403: "Policy refuses the caller, the path's project is not the token's, or too many metadata items (METADATA_MAX_ITEMS)",
  404: 'No such resource (or not visible to the caller)',
  409: 'Conflict: the name or grant exists already',
  406: 'Microversion outside the supported range',
  413: "Request body too large, or a quota exceeded (Cinder's VolumeSizeExceedsLimit, VolumeLimitExceeded, SnapshotLimitExceeded, VolumeSizeExceedsAvailableQuota)",
  415: 'Content-Type other than application/json',
  503: 'The database cannot be reached; try again after Retry-After seconds',
};

/** The faults an operation can answer, from what kind of operation it is. */
export function faultStatuses(op: ApiOperation): number[] {
  const statuses = [400, 406];
  if (!op.public) statuses.push(401, 403, 503);
  if (op.mayBeUnavailable) statuses.push(503);
  if (op.path.includes('{id}') || op.path.includes('{host}') || op.bodyNamesResource || op.mayBeMissing || op.mayBeNotFound || op.minVersion) statuses.push(404);
  if (op.mayConflict) statuses.push(409);
  // Bodies are read (and refused for size or media type) on every method but GET.
  if (!op.public && op.method !== 'get') statuses.push(413, 415);
  return statuses.sort((a, b) => a - b);
}

function fault(status: number) {
  return {
    description: `${FAULT_DESCRIPTIONS[status]} (OpenStack fault "${faultName(status)}")`,
    ...(status === 503 || status === 413 ? { headers: { 'Retry-After': { schema: { type: 'integer', minimum: 0 } } } } : {}),
    ...jsonContent(jsonSchema(faultSchema(status), 'output')),
  };
}

/** Cinder's noauth handshake: a request without X-Auth-Token gets a token to use, and stops. */
const NOAUTH_HANDSHAKE = {
  description: 'noauth strategy only, no X-Auth-Token sent: the legacy handshake, which answers the token to use',
  headers: { 'X-Auth-Token': { schema: { type: 'string' } }, 'X-Server-Management-Url': { schema: { type: 'string' } } },
};

function responses(op: ApiOperation) {
  const out: Record<string, object> = {};
  for (const [status, s] of Object.entries(op.success)) {
    out[status] = { description: s.description, ...(s.body ? jsonContent(jsonSchema(s.body, 'output')) : {}) };
  }
  // A success of 204 (a message's delete) shares the status with the handshake.
  if (!op.public) out['204'] = op.success[204] ? { ...NOAUTH_HANDSHAKE, description: `${op.success[204].description}; or, ${NOAUTH_HANDSHAKE.description}` } : NOAUTH_HANDSHAKE;
  for (const status of faultStatuses(op)) out[String(status)] = fault(status);
  return out;
}

function buildDocument() {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of apiOperations) {
    const body = requestBody(op.body);
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      tags: [op.tag],
      ...(op.public ? { security: [] } : {}),
      parameters: parameters(op),
      ...(body ? { requestBody: body } : {}),
      responses: responses(op),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assisted volume snapshots (Cinder v3 compatible)',
      version: '0.1.0',
      description: `Cinder's block-storage API v3 for volumes and snapshots, with assisted snapshots driven by the compute callback. Microversions ${MIN_API_VERSION} to ${MAX_API_VERSION} via the ${API_VERSION_HEADER} header. Faults are OpenStack faults: {"<name>": {"code": <status>, "message": "..."}}.`,
    },
    tags: [{ name: 'volumes' }, { name: 'snapshots' }, { name: 'types' }, { name: 'qos-specs' }, { name: 'quotas' }, { name: 'versions' }, { name: 'health' }, { name: 'operator' }, { name: 'groups' }, { name: 'transfers' }],
    security: [{ token: [] }],
    components: {
      securitySchemes: {
        token: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Auth-Token',
          description: 'A Keystone token (keystone strategy) or "user:project" (noauth strategy, loopback only)',
        },
      },
    },
    paths,
  };
}

let cached: ReturnType<typeof buildDocument> | null = null;

export function openApiDocument() {
  cached ??= buildDocument();
  return cached;
}
