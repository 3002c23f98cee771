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
  METADATA_KEY_PATTERN,
  snapshotActionSchemas,
  snapshotCreateSchema,
  snapshotListQuerySchema,
  snapshotMetadataBodySchema,
  snapshotMetaItemBodySchema,
  snapshotUpdateSchema,
  transferAcceptSchema,
  transferCreateSchema,
  transferListQuerySchema,
  transferResponseSchemas,
  uuidSchema,
  volumeActionSchemas,
  volumeCreateSchema,
  volumeDeleteQuerySchema,
  volumeListQuerySchema,
  volumeUpdateSchema,
} from './schemas/index.js';
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
  tag: 'volumes' | 'snapshots' | 'transfers' | 'versions' | 'health';
  /** A list query schema: its input object's properties are the query parameters. */
  query?: z.ZodType;
  /** The body schema, or the schema of each action of POST .../action (a oneOf). */
  body?: z.ZodType | Readonly<Record<string, z.ZodType>>;
  success: Readonly<Record<number, Success>>;
  /** Version discovery: no token, no project. */
  public?: true;
  /** Answers 404 for a resource named in the body (POST /snapshots: the volume). */
  bodyNamesResource?: true;
  /** A public operation that answers 503 when the instance should get no requests (/readyz). */
  mayBeUnavailable?: true;
  /** The microversion the path exists from; below it, 404. */
  since?: string;
}

const VOLUMES = '/v3/{project_id}/volumes';
const SNAPSHOTS = '/v3/{project_id}/snapshots';
const accepted: Success = { description: 'Accepted' };

/** Every operation of the API; createApp registers exactly these routes. */
export const apiOperations: readonly ApiOperation[] = [
  { method: 'get', path: '/', operationId: 'listVersions', summary: 'Version discovery', tag: 'versions', public: true, success: { 300: { description: 'Multiple choices: the API versions', body: responseSchemas.versions } } },
  { method: 'get', path: '/v3', operationId: 'showVersionV3', summary: 'The v3 API version', tag: 'versions', public: true, success: { 200: { description: 'The v3 version', body: responseSchemas.versions } } },
  { method: 'get', path: '/v3/', operationId: 'showVersionV3Slash', summary: 'The v3 API version', tag: 'versions', public: true, success: { 200: { description: 'The v3 version', body: responseSchemas.versions } } },
  { method: 'get', path: '/healthz', operationId: 'health', summary: 'Liveness for a load balancer: the process answers HTTP', tag: 'health', public: true, success: { 200: { description: 'Alive', body: z.object({ status: z.literal('ok') }) } } },
  { method: 'get', path: '/readyz', operationId: 'readiness', summary: 'Readiness for a load balancer: the database answers and has every committed migration, and the instance is not stopping (503 otherwise, with the reason)', tag: 'health', public: true, mayBeUnavailable: true, success: { 200: { description: 'Ready for requests', body: z.object({ status: z.literal('ready') }) } } },
  { method: 'get', path: '/openapi.json', operationId: 'openApiDocument', summary: 'This document', tag: 'versions', public: true, success: { 200: { description: 'The OpenAPI 3.1 document', body: z.looseObject({ openapi: z.literal('3.1.0') }) } } },

  { method: 'get', path: VOLUMES, operationId: 'listVolumes', summary: 'List volumes (summary)', tag: 'volumes', query: volumeListQuerySchema, success: { 200: { description: 'A page of volumes', body: responseSchemas.volumeSummaries } } },
  { method: 'post', path: VOLUMES, operationId: 'createVolume', summary: 'Create a volume: blank, or from a snapshot (snapshot_id) or a volume (source_volid)', bodyNamesResource: true, tag: 'volumes', body: volumeCreateSchema, success: { 202: { description: 'The volume, being created', body: responseSchemas.volume } } },
  { method: 'get', path: `${VOLUMES}/detail`, operationId: 'listVolumesDetail', summary: 'List volumes (detail)', tag: 'volumes', query: volumeListQuerySchema, success: { 200: { description: 'A page of volumes', body: responseSchemas.volumeDetails } } },
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
    success: { 200: { description: 'os-initialize_connection: the connection info', body: responseSchemas.connectionInfo }, 202: accepted },
  },

  { method: 'get', path: SNAPSHOTS, operationId: 'listSnapshots', summary: 'List snapshots', tag: 'snapshots', query: snapshotListQuerySchema, success: { 200: { description: 'A page of snapshots', body: responseSchemas.snapshots } } },
  { method: 'post', path: SNAPSHOTS, operationId: 'createSnapshot', summary: 'Create a snapshot', tag: 'snapshots', body: snapshotCreateSchema, bodyNamesResource: true, success: { 202: { description: 'The snapshot, being created', body: responseSchemas.snapshot } } },
  { method: 'get', path: `${SNAPSHOTS}/detail`, operationId: 'listSnapshotsDetail', summary: 'List snapshots (detail; the same fields)', tag: 'snapshots', query: snapshotListQuerySchema, success: { 200: { description: 'A page of snapshots', body: responseSchemas.snapshots } } },
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
  {
    method: 'get',
    path: '/v3/{project_id}/os-orphan-files',
    operationId: 'listOrphanFiles',
    summary: 'Admin (an extension): files in the backend that no volume or snapshot owns, scanned now; they are never removed',
    tag: 'volumes',
    success: { 200: { description: 'The orphan files', body: responseSchemas.orphanFiles } },
  },
  ...transferOperations('/v3/{project_id}/os-volume-transfer', 'VolumeTransfer'),
  ...transferOperations('/v3/{project_id}/volume-transfers', 'VolumeTransfers355', '3.55'),
];

/** The same five operations under both transfer URLs; the newer exists from 3.55. */
function transferOperations(base: string, suffix: string, since?: string): ApiOperation[] {
  const at = since ? ` (from ${since})` : '';
  const common = { tag: 'transfers' as const, ...(since ? { since } : {}) };
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
  id: { description: 'The volume, snapshot or transfer id (a UUID; anything else is not found)', schema: jsonSchema(uuidSchema, 'input') },
  key: { description: 'A metadata key', schema: { ...jsonSchema(z.string().regex(METADATA_KEY_PATTERN), 'input'), ...NOT_A_DOT_SEGMENT } },
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
  406: 'Microversion outside the supported range',
  413: 'Request body too large, or a limit exceeded (VOLUME_MAX_SIZE_GB on volume create)',
  415: 'Content-Type other than application/json',
  503: 'The database cannot be reached; try again after Retry-After seconds',
};

/** The faults an operation can answer, from what kind of operation it is. */
export function faultStatuses(op: ApiOperation): number[] {
  const statuses = [400, 406];
  if (!op.public) statuses.push(401, 403, 503);
  if (op.mayBeUnavailable) statuses.push(503);
  if (op.path.includes('{id}') || op.bodyNamesResource || op.since) statuses.push(404);
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
  if (!op.public) out['204'] = NOAUTH_HANDSHAKE;
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
    tags: [{ name: 'volumes' }, { name: 'snapshots' }, { name: 'transfers' }, { name: 'versions' }, { name: 'health' }],
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
