// The OpenAPI document (src/api/openapi.ts): valid OpenAPI 3.1 for a maintained validator, every
// schema in it a valid JSON Schema, the same operations as createApp's routes, and every
// documented request schema accepting exactly what the zod schema behind it accepts. The document
// driving the API itself is test/api/openapi-conformance.test.ts.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createApp } from '../../src/api/app.js';
import { apiOperations, openApiDocument } from '../../src/api/openapi.js';
import {
  snapshotActionSchemas,
  snapshotCreateSchema,
  snapshotMetaItemBodySchema,
  snapshotUpdateSchema,
  volumeActionSchemas,
  volumeCreateSchema,
  volumeResetStatusSchema,
  volumeUpdateSchema,
} from '../../src/api/schemas/index.js';
import { loadDefaultPolicy } from '../../src/http/policy/index.js';
import { jsonValueProblem } from '../../src/http/body/index.js';
import type { VolumeManager } from '../../src/manager/volume-manager.js';
import { providers } from '../support/databases.js';
import { apiFixture, type ApiFixture } from './helpers.js';
import { hostile, SchemaArbitraries, type JsonSchema } from './json-schema-arbitrary.js';

const doc = openApiDocument() as any;
type DocOperation = { parameters?: { name: string; in: string; schema: JsonSchema }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> }; responses: Record<string, any> };
const operations = Object.entries(doc.paths as Record<string, Record<string, DocOperation>>).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ path, method, op })),
);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 for @seriousme/openapi-schema-validator', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('holds only schemas that compile as strict JSON Schema 2020-12', () => {
    // Strict but for strictRequired: Cinder's own "at least one of" is anyOf: [{required: [k]}, ...].
    const ajv = new Ajv2020({ strict: true, strictRequired: false });
    let count = 0;
    for (const { op } of operations) {
      const schemas = [
        ...(op.parameters ?? []).map((p) => p.schema),
        ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
        ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).map((c: any) => c.schema as JsonSchema)),
      ];
      for (const schema of schemas) {
        expect(() => ajv.compile(schema), JSON.stringify(schema).slice(0, 200)).not.toThrow();
        count++;
      }
    }
    expect(count).toBeGreaterThan(200);
  });

  it('declares every path parameter, a response schema for every answer with a body, and the token', () => {
    expect(doc.components.securitySchemes.token).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-Auth-Token' }));
    for (const { path, method, op } of operations) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect([method, path, declared]).toEqual([method, path, inPath]);
      for (const [status, response] of Object.entries(op.responses)) {
        // Only the empty answers (202 Accepted, the noauth handshake, a deleted item) have no body.
        if (!response.content) expect([path, method, status]).toEqual([path, method, expect.stringMatching(/^(202|204|200)$/)]);
        if (Number(status) >= 400) {
          expect(Object.keys(response.content['application/json'].schema.properties)).toHaveLength(1);
        }
      }
    }
    // The volume from Found item 1: GET /volumes/{id} names both parameters and its answer.
    const show = doc.paths['/v3/{project_id}/volumes/{id}'].get;
    expect(show.parameters.map((p: any) => p.name)).toEqual(['project_id', 'id', 'OpenStack-API-Version']);
    expect(show.responses['200'].content['application/json'].schema.properties.volume.properties.size).toEqual({ type: 'integer', minimum: expect.any(Number), maximum: expect.any(Number) });
  });

  it('has one operation per route createApp registers, and no other', () => {
    const app = createApp({ manager: {} as VolumeManager, authenticate: async (_c, next) => next(), policy: loadDefaultPolicy() });
    const routes = new Set(
      app.routes
        .filter((r) => ['GET', 'POST', 'PUT', 'DELETE'].includes(r.method))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/\/$/, '') || '/'}`.replace(/:(\w+)/g, '{$1}')),
    );
    const documented = new Set(apiOperations.map((o) => `${o.method} ${o.path.replace(/\/$/, '') || '/'}`));
    expect([...routes].sort()).toEqual([...documented].sort());
    expect(operations).toHaveLength(apiOperations.length);
  });
});

/**
 * The documented request schema and the zod schema behind it accept the same values: drawn from
 * the document (valid and nearly valid) and hostile ones, each must be accepted by both or by
 * neither. (Found item 6: force null, {"snapshot": {}}, status "", size 0 or "0", os-attach
 * without instance_uuid were documented as valid and refused.)
 */
describe('documented request schemas are the validating schemas', () => {
  const ajv = new Ajv2020({ strict: false });
  const arbs = new SchemaArbitraries(ajv);
  const bodyOf = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema as JsonSchema;

  const bodies: [string, JsonSchema, z.ZodType][] = [
    ['POST /volumes', bodyOf('/v3/{project_id}/volumes', 'post'), volumeCreateSchema],
    ['PUT /volumes/{id}', bodyOf('/v3/{project_id}/volumes/{id}', 'put'), volumeUpdateSchema],
    ['POST /snapshots', bodyOf('/v3/{project_id}/snapshots', 'post'), snapshotCreateSchema],
    ['PUT /snapshots/{id}', bodyOf('/v3/{project_id}/snapshots/{id}', 'put'), snapshotUpdateSchema],
    ['PUT /snapshots/{id}/metadata/{key}', bodyOf('/v3/{project_id}/snapshots/{id}/metadata/{key}', 'put'), snapshotMetaItemBodySchema],
    ...Object.entries(volumeActionSchemas).map(
      ([name, schema], i) => [`volume ${name}`, bodyOf('/v3/{project_id}/volumes/{id}/action', 'post').oneOf[i], schema] as [string, JsonSchema, z.ZodType],
    ),
    ...Object.entries(snapshotActionSchemas).map(
      ([name, schema], i) => [`snapshot ${name}`, bodyOf('/v3/{project_id}/snapshots/{id}/action', 'post').oneOf[i], schema] as [string, JsonSchema, z.ZodType],
    ),
  ];

  it.each(bodies)('%s', (_name, json, zodSchema) => {
    const documented = ajv.compile(json);
    fc.assert(
      fc.property(arbs.any(json), (body) => {
        // The body edge refuses a "__proto__" key before any schema sees it (src/http/body), so
        // what the schemas would make of one never matters; zod drops such keys silently.
        fc.pre(jsonValueProblem(body) !== 'reserved_key');
        expect({ body, accepted: zodSchema.safeParse(body).success }).toEqual({ body, accepted: documented(body) });
      }),
      { numRuns: 300 },
    );
    // The generator is checked too: what it calls valid, the document accepts.
    fc.assert(
      fc.property(arbs.valid(json), (body) => {
        expect(documented(body), JSON.stringify(body)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('list query parameters, one at a time', () => {
    const params = doc.paths['/v3/{project_id}/snapshots'].get.parameters.filter((p: any) => p.in === 'query' && p.name !== 'filters');
    expect(params.map((p: any) => p.name)).toEqual(['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'with_count']);
    const zodQuery = (apiOperations.find((o) => o.operationId === 'listSnapshots')!.query)!;
    for (const p of params) {
      const documented = ajv.compile(p.schema);
      const value = fc.oneof(arbs.valid(p.schema), fc.string({ maxLength: 12 }), hostile().filter((v): v is string => typeof v === 'string'));
      fc.assert(
        fc.property(value, (v) => {
          expect({ [p.name]: v, accepted: zodQuery.safeParse({ [p.name]: v }).success }).toEqual({ [p.name]: v, accepted: documented(v) });
        }),
        { numRuns: 200 },
      );
    }
  });

  it.each([
    ['snapshot create with force: null', snapshotCreateSchema, { snapshot: { volume_id: '2b9d9d5e-6f43-4c1a-9b8e-0a4a7a3c1f00', force: null } }, false],
    ['snapshot update {}', snapshotUpdateSchema, { snapshot: {} }, false],
    ['volume update {}', volumeUpdateSchema, { volume: {} }, false],
    ['volume reset to status ""', volumeResetStatusSchema, { 'os-reset_status': { status: '' } }, false],
    ['volume reset to "" and an attach status (Cinder takes it)', volumeResetStatusSchema, { 'os-reset_status': { status: '', attach_status: 'detached' } }, true],
    ['volume size 0', volumeCreateSchema, { volume: { size: 0 } }, false],
    ['volume size "0"', volumeCreateSchema, { volume: { size: '0' } }, false],
    ['volume size "007"', volumeCreateSchema, { volume: { size: '007' } }, true],
    ['os-attach without instance_uuid or host_name', volumeActionSchemas['os-attach'], { 'os-attach': { mountpoint: '/dev/vdb' } }, false],
    ['os-attach to a host (Cinder takes it)', volumeActionSchemas['os-attach'], { 'os-attach': { host_name: 'h1', mountpoint: '/dev/vdb' } }, true],
    ['a 200-emoji name (255 characters is code points)', volumeCreateSchema, { volume: { size: 1, name: '😀'.repeat(200) } }, true],
  ] as const)('Found item 6: %s', (_what, schema, body, accepted) => {
    const entry = bodies.find(([, , s]) => s === schema)!;
    expect(ajv.validate(entry[1], body)).toBe(accepted);
    expect(schema.safeParse(body).success).toBe(accepted);
  });
});

describe.each(providers)('REST API on %s: /openapi.json', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  it('serves the document without a token', async () => {
    const r = await f.call('GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json).toEqual(JSON.parse(JSON.stringify(doc)));
    const action = JSON.stringify(r.json.paths['/v3/{project_id}/snapshots/{id}/action'].post.requestBody);
    expect(action).toContain('os-update_snapshot_status');
    expect(action).toContain('compute_snapshot_status');
  });
});
