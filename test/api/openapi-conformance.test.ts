// The API driven from its own OpenAPI document (served at /openapi.json), on SQLite and
// PostgreSQL: for every operation, requests are generated from the documented parameters and
// body (valid, nearly valid and hostile; headers and token varied), sent through the real
// createApp, and every answer must be one the operation documents, with a body its schema
// accepts, and never a 5xx. Each operation must also succeed at least once, so the generated
// requests are not all refusals.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOperations, openApiDocument } from '../../src/api/openapi.js';
import { DB_MAX_INT } from '../../src/api/schemas/volumes.js';
import { providers } from '../support/databases.js';
import { apiFixture, createVolume, INSTANCE, P, send, type ApiFixture } from './helpers.js';
import { SchemaArbitraries, type JsonSchema } from './json-schema-arbitrary.js';

/**
 * Requests per operation and provider: enough to reach each status, small enough for CI. The
 * well-formed ones alone make a success all but certain (each one of them succeeds with a
 * probability of one half or more), so "it succeeded at least once" cannot flake.
 */
const WELL_FORMED_RUNS = 10;
const MIXED_RUNS = 16;
const PROJECT = 'proj';
const TOKEN = `alice:${PROJECT}`;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: JsonSchema;
  style?: string;
}
interface Operation {
  parameters: Parameter[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { content?: { 'application/json': { schema: JsonSchema } } }>;
  security?: unknown[];
}

const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

interface World {
  volumes: string[];
  snapshots: string[];
  keys: string[];
  /** A private type (shared with a project, with extra spec 'k') and a public one with an encryption spec. */
  types: string[];
  qos: string[];
  /** User messages, services' hosts and binaries (the operator resources). */
  messages: string[];
  hosts: string[];
  binaries: string[];
  /** The default group type (used by the group) and a spare one; both have the spec `k`. */
  groupTypes: string[];
  /** An empty group, and a group snapshot of it. */
  groups: string[];
  groupSnapshots: string[];
  /** A volume offered for transfer, and the auth key only the create's answer holds. */
  transfers: string[];
  authKey?: string;
}

const NO_WORLD: World = { volumes: [], snapshots: [], keys: [], types: [], qos: [], messages: [], hosts: [], binaries: [], groupTypes: [], groups: [], groupSnapshots: [], transfers: [] };

const GROUP_PATH = /^\/v3\/\{project_id\}\/group/;

/** Rows for the generated requests to find: volumes detached, attached and bare, snapshots of both. */
async function makeWorld(f: ApiFixture): Promise<World> {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await f.call(method, path, body === undefined ? {} : { body });
    expect(r.status, r.text).toBeLessThan(300);
    return r;
  };
  const detached = (await createVolume(f)).id;
  const attached = (await createVolume(f)).id;
  const bare = (await createVolume(f)).id;
  await call('POST', `${P}/volumes/${attached}/action`, { 'os-reserve': null });
  await call('POST', `${P}/volumes/${attached}/action`, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } });
  const offline = (await call('POST', `${P}/snapshots`, { snapshot: { volume_id: detached } })).json.snapshot.id as string;
  const assisted = (await call('POST', `${P}/snapshots`, { snapshot: { volume_id: attached, force: true } })).json.snapshot.id as string;
  await f.h.worker.drain();
  await call('PUT', `${P}/snapshots/${offline}/metadata`, { metadata: { k: 'v' } });
  // Fresh names: the world is made again for every operation, on the same database.
  const unique = () => `t-${Math.random().toString(36).slice(2)}`;
  const shared = (await call('POST', `${P}/types`, { volume_type: { name: unique(), extra_specs: { k: 'v' }, 'os-volume-type-access:is_public': false } })).json.volume_type.id as string;
  await call('POST', `${P}/types/${shared}/action`, { addProjectAccess: { project: 'other' } });
  const encrypted = (await call('POST', `${P}/types`, { volume_type: { name: unique() } })).json.volume_type.id as string;
  await call('POST', `${P}/types/${encrypted}/encryption`, { encryption: { provider: 'luks', control_location: 'front-end', cipher: 'aes-xts-plain64', key_size: 256 } });
  const qos = (await call('POST', `${P}/qos-specs`, { qos_specs: { name: unique(), k: 'v' } })).json.qos_specs.id as string;
  await f.h.manager.services.heartbeat();
  const messages: string[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await f.h.manager.messages.record({ projectId: PROJECT, resourceType: 'VOLUME', resourceUuid: bare, action: ['001', 'schedule allocate volume'], detail: ['003', 'Could not find any available weighted backend.'] });
    messages.push(m.id);
  }
  const volumeService = f.h.manager.services.backendHost;
  // Earlier operations may have disabled it (os-services/disable); a disabled host shows nothing.
  await f.h.manager.services.setDisabled(volumeService, 'cinder-volume', false);
  const latest = { headers: { 'OpenStack-API-Version': 'volume latest' } };
  const groupType = async (name: string) =>
    (await f.call('POST', `${P}/group_types`, { ...latest, body: { group_type: { name, group_specs: { k: 'v' } } } })).json.group_type.id as string;
  // The default group type outlives one operation's world (the database is shared): made once.
  const existing = await f.call('GET', `${P}/group_types/default`, latest);
  const defaultType = existing.status === 200 ? (existing.json.group_type.id as string) : await groupType('default_group_type');
  const groupTypes = [defaultType, await groupType(`spare-${Math.random()}`)];
  const group = (await f.call('POST', `${P}/groups`, { ...latest, body: { group: { group_type: groupTypes[0], volume_types: [encrypted] } } })).json.group.id as string;
  const groupSnapshot = (await f.call('POST', `${P}/group_snapshots`, { ...latest, body: { group_snapshot: { group_id: group } } })).json.group_snapshot.id as string;
  for (const volume of [detached, attached, bare]) await call('PUT', `${P}/volumes/${volume}/metadata`, { metadata: { k: 'v' } });
  const offered = (await createVolume(f)).id;
  const transfer = (await call('POST', `${P}/os-volume-transfer`, { transfer: { volume_id: offered } })).json.transfer as { id: string; auth_key: string };
  return { volumes: [detached, attached, bare], snapshots: [offline, assisted], keys: ['k'], types: [shared, encrypted], qos: [qos], messages, hosts: [volumeService], binaries: ['cinder-volume'], groupTypes, groups: [group], groupSnapshots: [groupSnapshot], transfers: [transfer.id], authKey: transfer.auth_key };
}

interface GeneratedRequest {
  url: string;
  token: string | null;
  headers: Record<string, string>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; raw: string; contentType: string };
}

const isTransferPath = (path: string) => /\/(os-volume-transfer|volume-transfers)\//.test(path);

/** Printable ASCII only: anything else cannot be sent as a header value at all. */
const headerText = fc.stringMatching(/^[\x20-\x7e]{0,16}$/);

/**
 * `well-formed`: valid per the document throughout, names only rows that exist, the fixture's
 * token; `mixed`: also nearly valid and hostile bodies, junk query values, other tokens, bad
 * microversions, malformed JSON and other media types.
 */
function requestArbitrary(path: string, op: Operation, arbs: SchemaArbitraries, world: World, mode: 'well-formed' | 'mixed'): fc.Arbitrary<GeneratedRequest> {
  const mixed = mode === 'mixed';
  const pathValues: Record<string, fc.Arbitrary<string>> = {};
  const query: Record<string, fc.Arbitrary<string | undefined>> = {};
  let filters: fc.Arbitrary<Record<string, string>> = fc.constant({});
  let version: fc.Arbitrary<string | undefined> = fc.constant(undefined);
  for (const p of op.parameters) {
    const documented = arbs.valid(p.schema) as fc.Arbitrary<string>;
    if (p.in === 'path') {
      // Only values the schema allows: outside it, a request is for another path, not this one.
      const ids = path.startsWith('/v3/{project_id}/snapshots/')
        ? world.snapshots
        : path.startsWith('/v3/{project_id}/types/')
          ? world.types
          : path.startsWith('/v3/{project_id}/qos-specs/')
            ? world.qos
            : path.startsWith('/v3/{project_id}/messages/')
              ? world.messages
              : path.startsWith('/v3/{project_id}/group_types/')
                ? world.groupTypes
                : path.startsWith('/v3/{project_id}/groups/')
                  ? world.groups
                  : path.startsWith('/v3/{project_id}/group_snapshots/')
                    ? world.groupSnapshots
                    : isTransferPath(path)
                      ? world.transfers
                      : world.volumes;
      const keys = path.includes('/encryption/') ? ['cipher', 'provider'] : world.keys;
      const pool = p.name === 'project_id' ? [PROJECT] : p.name === 'key' ? keys : p.name === 'host' ? world.hosts : ids;
      pathValues[p.name] = fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 6 }, { arbitrary: documented, weight: mixed ? 1 : 0 });
    } else if (p.in === 'query' && p.style === 'form' && p.schema.type === 'object') {
      filters = fc.dictionary(fc.constantFrom('name', 'status', 'volume_id', 'size', 'project_id', 'id', 'bogus'), fc.string({ maxLength: 8 }), { maxKeys: 2 });
    } else if (p.in === 'query' && p.name === 'vol_type_id') {
      // A type that exists, mostly: associating QoS specs with no type never succeeds.
      query[p.name] = fc.oneof({ arbitrary: fc.constantFrom(...world.types), weight: 4 }, { arbitrary: fc.option(documented, { nil: undefined }), weight: 1 });
    } else if (p.in === 'query') {
      query[p.name] = fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: documented, weight: 2 },
        { arbitrary: fc.string({ maxLength: 10 }), weight: mixed ? 1 : 0 },
      );
    } else if (p.in === 'header') {
      // Messages exist from 3.3 on, group resources from 3.11 to 3.20, the newer transfer URL from 3.55,
      // the volume summary from 3.12:
      // below, every answer is 404, which is no success.
      const since33 = path.startsWith('/v3/{project_id}/messages');
      const group = GROUP_PATH.test(path) || path.includes('/volume-transfers') || path.endsWith('/volumes/summary');
      version = fc.oneof(
        { arbitrary: fc.constant(undefined), weight: since33 ? 0 : group ? 1 : 6 },
        { arbitrary: fc.constantFrom('volume 3.3', 'volume 3.49'), weight: since33 ? 6 : 0 },
        { arbitrary: fc.constant('volume latest'), weight: group ? 6 : 0 },
        { arbitrary: fc.constantFrom('volume 3.0', 'volume 3.66', 'volume latest'), weight: 1 },
        { arbitrary: fc.constantFrom('volume 3.71', 'volume 2.0', 'compute 2.1'), weight: mixed ? 1 : 0 },
        { arbitrary: headerText, weight: mixed ? 1 : 0 },
      );
    }
  }
  const schema = op.requestBody?.content['application/json'].schema;
  // An accept succeeds only with the auth key the create answered, which no schema can draw.
  const withKey = path.endsWith('/accept') && world.authKey ? world.authKey : undefined;
  const body: fc.Arbitrary<GeneratedRequest['body']> = !schema
    ? fc.constant({ kind: 'none' as const })
    : !mixed
      ? withKey
        ? fc.constant({ kind: 'json' as const, value: { accept: { auth_key: withKey } } })
        : arbs.valid(schema).map((value) => ({ kind: 'json' as const, value }))
      : fc.oneof(
          { arbitrary: arbs.any(schema).map((value) => ({ kind: 'json' as const, value })), weight: 12 },
          { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
          { arbitrary: fc.constantFrom({ kind: 'raw' as const, raw: '{"a":', contentType: 'application/json' }, { kind: 'raw' as const, raw: '{}', contentType: 'text/plain' }), weight: 1 },
        );
  const token = fc.oneof({ arbitrary: fc.constant(TOKEN), weight: 10 }, { arbitrary: fc.constantFrom(null, 'bob:other'), weight: mixed ? 1 : 0 });
  return fc.record({ pathValues: fc.record(pathValues), query: fc.record(query), filters, version, body, token }).map((g) => {
    const search = new URLSearchParams(g.filters);
    for (const [name, value] of Object.entries(g.query)) if (value !== undefined) search.set(name, value);
    const concrete = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(g.pathValues[name]!));
    const qs = search.toString();
    return {
      url: qs ? `${concrete}?${qs}` : concrete,
      token: op.security?.length === 0 ? null : g.token,
      headers: g.version === undefined ? ({} as Record<string, string>) : { 'OpenStack-API-Version': g.version },
      body: g.body,
    };
  });
}

describe.each(providers)('REST API on %s: every operation, driven from the OpenAPI document', (provider) => {
  let f: ApiFixture;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validators = new Map<JsonSchema, ValidateFunction>();
  const validator = (schema: JsonSchema) => {
    if (!validators.has(schema)) validators.set(schema, ajv.compile(schema));
    return validators.get(schema)!;
  };

  beforeAll(async () => {
    // The document bounds a size by Cinder's column (DB_MAX_INT), the deployment by its own
    // VOLUME_MAX_SIZE_GB (1/1024 of that): with the default limit nearly every generated size
    // would be refused with 413, and "a create succeeded at least once" would hang on luck. The
    // limit's 413 has its own tests (test/api/routes/volumes.test.ts).
    f = await apiFixture(provider, { limits: { maxVolumeSizeGiB: DB_MAX_INT } });
  });
  afterAll(async () => {
    await f?.close();
  });

  it.each(operations.map((o) => [o.method.toUpperCase(), o.path, o] as const))('%s %s', async (method, path, { op }) => {
    const world = op.security?.length === 0 ? NO_WORLD : await makeWorld(f);
    // Ids in bodies name volumes (a snapshot's volume_id), a group's type and volume type (a
    // group's create) or a group (a group snapshot's create); ids in paths are drawn per path above.
    // A group's create-from-src names the world's group or group snapshot by field.
    const bodyIds = path === '/v3/{project_id}/groups' ? world.types.slice(1, 2) : path === '/v3/{project_id}/group_snapshots' ? world.groups : world.volumes;
    const arbs = new SchemaArbitraries(new Ajv2020({ strict: false }), { uuids: bodyIds, keys: world.keys, named: { host: world.hosts, binary: world.binaries, service: world.binaries, group_type: world.groupTypes.slice(0, 1), source_group_id: world.groups, group_snapshot_id: world.groupSnapshots } });
    const seen = new Map<number, number>();
    const answersAsDocumented = (mode: 'well-formed' | 'mixed') =>
      fc.asyncProperty(requestArbitrary(path, op, arbs, world, mode), async (req) => {
        const options =
          req.body.kind === 'json'
            ? { body: req.body.value }
            : req.body.kind === 'raw'
              ? { raw: req.body.raw, headers: { 'Content-Type': req.body.contentType } }
              : {};
        const r = await send(f.app, method, req.url, { ...options, headers: { ...req.headers, ...('headers' in options ? options.headers : {}) } }, req.token);
        // Run the work a request queued, so later requests meet snapshots that moved on.
        if (method !== 'GET') await f.h.worker.drain();
        const what = `${method} ${req.url} ${JSON.stringify(req.body).slice(0, 300)} -> ${r.status} ${r.text.slice(0, 300)}`;
        expect(r.status, what).toBeLessThan(500);
        const documented = op.responses[String(r.status)];
        expect(documented, `undocumented status: ${what}`).toBeDefined();
        const content = documented!.content?.['application/json'];
        // A status the document says may also come without a body (os-set_bootable's 200, as Cinder's).
        const mayBeEmpty = /an empty body/.test((documented as { description?: string }).description ?? '');
        if (content && !(mayBeEmpty && r.text === '')) {
          expect(r.headers.get('content-type'), what).toMatch(/^application\/json/);
          const validate = validator(content.schema);
          expect(validate(r.json) ? [] : validate.errors, what).toEqual([]);
        } else {
          expect(r.text, what).toBe('');
        }
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      });
    await fc.assert(answersAsDocumented('well-formed'), { numRuns: WELL_FORMED_RUNS });
    await fc.assert(answersAsDocumented('mixed'), { numRuns: MIXED_RUNS });
    const documented = apiOperations.find((o) => o.path === path && o.method === method.toLowerCase())!;
    // 204 is also the noauth handshake's status: a success only where the operation says so.
    const successes = [...seen].filter(([status]) => status >= 200 && status < 400 && (status !== 204 || documented.success[204] !== undefined));
    if (documented.refusedByDesign) return;
    expect(successes.length, `no success among ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  });
});
