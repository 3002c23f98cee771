// The OpenAPI document served at /openapi.json. Request bodies are generated from the same zod
// schemas that validate them, so the document cannot drift from what the API accepts.
import * as z from 'zod';
import {
  metadataSchema,
  snapshotActionSchemas,
  snapshotCreateSchema,
  snapshotUpdateSchema,
  volumeActionSchemas,
  volumeCreateSchema,
  volumeUpdateSchema,
} from './schemas/index.js';
import { MAX_API_VERSION, MIN_API_VERSION } from './version.js';

const json = (schema: z.ZodType) => ({
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } },
});
const oneOf = (schemas: Record<string, z.ZodType>) => ({
  content: {
    'application/json': {
      schema: { oneOf: Object.values(schemas).map((s) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' })) },
    },
  },
});
const fault = { description: 'OpenStack fault, e.g. {"badRequest": {"code": 400, "message": "..."}}' };
const errors = { 400: fault, 401: fault, 403: fault, 404: fault, 413: fault, 415: fault };
const op = (summary: string, okCode: number, extra: Record<string, unknown> = {}) => ({
  summary,
  responses: { [okCode]: { description: okCode === 202 ? 'Accepted' : 'OK' }, ...errors },
  ...extra,
});

let cached: object | null = null;

export function openApiDocument() {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Assisted volume snapshots (Cinder v3 compatible)',
      version: '0.1.0',
      description: `Microversions ${MIN_API_VERSION} to ${MAX_API_VERSION} via the OpenStack-API-Version header.`,
    },
    paths: {
      '/v3/{project_id}/volumes': {
        get: op('List volumes (summary)', 200),
        post: op('Create a volume', 202, { requestBody: json(volumeCreateSchema) }),
      },
      '/v3/{project_id}/volumes/detail': { get: op('List volumes (detail)', 200) },
      '/v3/{project_id}/volumes/{id}': {
        get: op('Show a volume', 200),
        put: op('Update a volume', 200, { requestBody: json(volumeUpdateSchema) }),
        delete: op('Delete a volume', 202),
      },
      '/v3/{project_id}/volumes/{id}/action': {
        post: op('Volume action: os-reserve, os-unreserve, os-initialize_connection, os-attach, os-begin_detaching, os-roll_detaching, os-detach, os-reset_status, os-force_delete', 202, {
          requestBody: oneOf(volumeActionSchemas),
        }),
      },
      '/v3/{project_id}/snapshots': {
        get: op('List snapshots (limit, marker, sort, all_tenants)', 200),
        post: op('Create a snapshot', 202, { requestBody: json(snapshotCreateSchema) }),
      },
      '/v3/{project_id}/snapshots/detail': { get: op('List snapshots (detail)', 200) },
      '/v3/{project_id}/snapshots/{id}': {
        get: op('Show a snapshot', 200),
        put: op('Update name/description', 200, { requestBody: json(snapshotUpdateSchema) }),
        delete: op('Delete a snapshot', 202),
      },
      '/v3/{project_id}/snapshots/{id}/action': {
        post: op('Snapshot action: os-update_snapshot_status (compute callback), os-reset_status, os-force_delete', 202, {
          requestBody: oneOf(snapshotActionSchemas),
        }),
      },
      '/v3/{project_id}/snapshots/{id}/metadata': {
        get: op('Show snapshot metadata', 200),
        post: op('Merge snapshot metadata', 200, { requestBody: json(z.object({ metadata: metadataSchema })) }),
        put: op('Replace snapshot metadata', 200, { requestBody: json(z.object({ metadata: metadataSchema })) }),
      },
      '/v3/{project_id}/snapshots/{id}/metadata/{key}': {
        get: op('Show one metadata item', 200),
        put: op('Set one metadata item', 200),
        delete: op('Delete one metadata item', 200),
      },
      '/v3/{project_id}/snapshots/{id}/admin_metadata': { get: op('Admin: snapshot admin metadata (compute_snapshot_status, create_info, ...)', 200) },
      '/v3/{project_id}/snapshots/{id}/transitions': { get: op('Admin: the snapshot state machine history, oldest first', 200) },
    },
  };
  return cached;
}
