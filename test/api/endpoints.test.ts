// HTTP-level tests of the REST API (issue 3), part 1: version discovery and microversions,
// volumes and their attach actions, request-level errors and /openapi.json. The app is the real
// createApp over a real database (SQLite and PostgreSQL), noauth, default policy.
// Snapshots: endpoints-snapshots.test.ts; snapshot actions and extensions: endpoints-actions.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { apiFixture, expectClientFault, expectFault, INSTANCE, type ApiFixture } from './helpers.js';

const P = '/v3/proj';
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';

describe.each(providers)('REST API on %s: discovery, volumes, request errors', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const createVolume = async (body: Record<string, unknown> = { size: 1, name: 'vol' }) => {
    const r = await f.call('POST', `${P}/volumes`, { body: { volume: body } });
    expect(r.status, r.text).toBe(202);
    return r.json.volume as { id: string; status: string; [k: string]: unknown };
  };
  const volumeAction = (id: string, body: unknown) => f.call('POST', `${P}/volumes/${id}/action`, { body });
  const volumeStatus = async (id: string) => (await f.call('GET', `${P}/volumes/${id}`)).json.volume.status as string;

  describe('version discovery and microversions', () => {
    it('GET / answers 300 with the v3 document; /v3 and /v3/ answer 200 with the same', async () => {
      const root = await f.call('GET', '/', { token: null });
      expect(root.status).toBe(300);
      expect(root.json.versions).toHaveLength(1);
      expect(root.json.versions[0]).toMatchObject({
        id: 'v3.0',
        status: 'CURRENT',
        version: '3.70',
        min_version: '3.0',
        links: expect.arrayContaining([{ rel: 'self', href: 'http://localhost/v3/' }]),
      });
      for (const path of ['/v3/', '/v3']) {
        const v3 = await f.call('GET', path, { token: null });
        expect(v3.status).toBe(200);
        expect(v3.json).toEqual(root.json);
      }
    });

    it('echoes the negotiated version with Vary, on successes and on faults', async () => {
      const cases: Array<[string | undefined, string]> = [
        [undefined, 'volume 3.0'],
        ['volume 3.27', 'volume 3.27'],
        ['volume 3.70', 'volume 3.70'],
        ['volume latest', 'volume 3.70'],
        ['compute 2.1, volume 3.66', 'volume 3.66'],
      ];
      for (const [sent, echoed] of cases) {
        const headers: Record<string, string> = sent === undefined ? {} : { 'OpenStack-API-Version': sent };
        for (const [path, status] of [['/', 300], [`${P}/snapshots`, 200], [`${P}/snapshots/${MISSING}`, 404]] as const) {
          const r = await f.call('GET', path, { headers });
          expect([path, sent, r.status]).toEqual([path, sent, status]);
          expect(r.headers.get('OpenStack-API-Version')).toBe(echoed);
          expect(r.headers.get('Vary')).toBe('OpenStack-API-Version');
        }
      }
    });

    it('refuses unsupported versions with 406 and malformed ones with 400', async () => {
      for (const v of ['3.71', '3.99', '2.0', '4.0']) {
        const r = await f.call('GET', `${P}/snapshots`, { headers: { 'OpenStack-API-Version': `volume ${v}` } });
        expectFault(r, 406, 'computeFault', `Version ${v} is not supported by the API. Minimum is 3.0 and maximum is 3.70.`);
        expect(r.headers.get('OpenStack-API-Version')).toBeNull();
      }
      for (const v of ['volume 3.x', 'volume 3.1.1', 'volume 03.1', 'volume', 'compute 2.1']) {
        const r = await f.call('GET', '/', { headers: { 'OpenStack-API-Version': v } });
        expectFault(r, 400, 'badRequest');
      }
    });
  });

  describe('volumes', () => {
    it('creates, shows, lists (summary and detail), updates and deletes a volume', async () => {
      const v = await createVolume({ size: 2, name: 'data', description: 'first' });
      expect(v).toMatchObject({ status: 'available', size: 2, name: 'data', description: 'first', attachments: [], user_id: 'alice' });
      expect(v.links).toEqual([{ rel: 'self', href: `http://localhost${P}/volumes/${v.id}` }]);
      // noauth callers are admins: the admin-only attributes are there.
      expect(v['os-vol-tenant-attr:tenant_id']).toBe('proj');

      const shown = await f.call('GET', `${P}/volumes/${v.id}`);
      expect(shown.status).toBe(200);
      expect(shown.json.volume).toMatchObject({ id: v.id, status: 'available', name: 'data' });

      const list = await f.call('GET', `${P}/volumes`);
      expect(list.status).toBe(200);
      expect(list.json.volumes).toEqual([{ id: v.id, name: 'data', links: [{ rel: 'self', href: `http://localhost${P}/volumes/${v.id}` }] }]);
      const detail = await f.call('GET', `${P}/volumes/detail`);
      expect(detail.json.volumes).toHaveLength(1);
      expect(detail.json.volumes[0]).toMatchObject({ id: v.id, size: 2, status: 'available' });

      const updated = await f.call('PUT', `${P}/volumes/${v.id}`, { body: { volume: { name: 'renamed', description: null } } });
      expect(updated.status).toBe(200);
      expect(updated.json.volume).toMatchObject({ name: 'renamed', description: null });
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.name).toBe('renamed');

      const del = await f.call('DELETE', `${P}/volumes/${v.id}`);
      expect([del.status, del.text]).toEqual([202, '']);
      expectFault(await f.call('GET', `${P}/volumes/${v.id}`), 404, 'itemNotFound', `Volume ${v.id} could not be found.`);
      expect((await f.call('GET', `${P}/volumes`)).json.volumes).toEqual([]);
    });

    it('pages volumes with limit and marker and links the next page', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await createVolume({ size: 1, name: `v${i}` })).id);
        f.h.clock.advance(1);
      }
      const first = await f.call('GET', `${P}/volumes/detail?limit=2`);
      expect(first.json.volumes.map((v: { id: string }) => v.id)).toEqual([ids[2], ids[1]]);
      const next = new URL(first.json.volumes_links[0].href);
      expect(first.json.volumes_links[0].rel).toBe('next');
      expect(next.searchParams.get('marker')).toBe(ids[1]);
      const second = await f.call('GET', next.pathname + next.search);
      expect(second.json.volumes.map((v: { id: string }) => v.id)).toEqual([ids[0]]);
      expect(second.json.volumes_links).toBeUndefined();
    });

    it('refuses bad volume bodies, including sources this service cannot build from', async () => {
      const bad: unknown[] = [
        {},
        { volume: {} },
        { volume: { size: 0 } },
        { volume: { size: -1 } },
        { volume: { size: 1.5 } },
        { volume: { size: 'big' } },
        { volume: { size: 1, colour: 'red' } },
        { volume: { size: 1 }, extra: true },
        { volume: { size: 1, snapshot_id: MISSING } },
        { volume: { size: 1, source_volid: MISSING } },
        { volume: { size: 1, backup_id: MISSING } },
        { volume: { size: 1, imageRef: 'cirros' } },
        { volume: { size: 1, name: 'a\u0000b' } },
        { volume: { size: 1, metadata: { a: 'b' } } },
      ];
      for (const body of bad) {
        const r = await f.call('POST', `${P}/volumes`, { body });
        expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), 400]);
        expectFault(r, 400, 'badRequest');
      }
      expect((await f.call('GET', `${P}/volumes`)).json.volumes).toEqual([]);
      // What cinderclient sends on every create: the unsupported sources as null.
      const v = await createVolume({ size: 1, name: null, snapshot_id: null, source_volid: null, imageRef: null, volume_type: null, metadata: {}, availability_zone: null, backup_id: null, consistencygroup_id: null, description: null, multiattach: false });
      expect(v.status).toBe('available');
      expectFault(await f.call('PUT', `${P}/volumes/${v.id}`, { body: { volume: {} } }), 400, 'badRequest');
      expectFault(await f.call('PUT', `${P}/volumes/${v.id}`, { body: { volume: { metadata: { a: 'b' } } } }), 400, 'badRequest', /metadata is not supported/);
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, snapshot_id: MISSING } } }), 400, 'badRequest', /with snapshot_id is not supported/);
    });

    it('runs the legacy attach flow: reserve, initialize_connection, attach (in-use), begin_detaching, detach', async () => {
      const v = await createVolume();
      let r = await volumeAction(v.id, { 'os-reserve': null });
      expect([r.status, await volumeStatus(v.id)]).toEqual([202, 'attaching']);
      r = await volumeAction(v.id, { 'os-unreserve': {} });
      expect([r.status, await volumeStatus(v.id)]).toEqual([202, 'available']);
      r = await volumeAction(v.id, { 'os-reserve': {} });
      expect(r.status).toBe(202);
      r = await volumeAction(v.id, { 'os-initialize_connection': { connector: { host: 'compute-1', initiator: 'iqn.x' } } });
      expect(r.status).toBe(200);
      expect(r.json.connection_info).toMatchObject({ driver_volume_type: expect.any(String), data: expect.any(Object) });
      r = await volumeAction(v.id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb', mode: 'rw' } });
      expect(r.status).toBe(202);
      const attached = (await f.call('GET', `${P}/volumes/${v.id}`)).json.volume;
      expect(attached.status).toBe('in-use');
      expect(attached.attachments).toEqual([
        expect.objectContaining({ volume_id: v.id, server_id: INSTANCE, device: '/dev/vdb', attachment_id: expect.any(String) }),
      ]);

      // An attached volume can be neither reserved nor deleted.
      expectFault(await volumeAction(v.id, { 'os-reserve': null }), 400, 'badRequest', /Volume status must be available to reserve, but current status is: in-use/);
      expectFault(await f.call('DELETE', `${P}/volumes/${v.id}`), 400, 'badRequest', /Volume status must be available/);

      r = await volumeAction(v.id, { 'os-begin_detaching': null });
      expect([r.status, await volumeStatus(v.id)]).toEqual([202, 'detaching']);
      r = await volumeAction(v.id, { 'os-roll_detaching': null });
      expect([r.status, await volumeStatus(v.id)]).toEqual([202, 'in-use']);
      r = await volumeAction(v.id, { 'os-begin_detaching': null });
      expect(r.status).toBe(202);
      r = await volumeAction(v.id, { 'os-detach': { attachment_id: attached.attachments[0].attachment_id } });
      expect(r.status).toBe(202);
      const detached = (await f.call('GET', `${P}/volumes/${v.id}`)).json.volume;
      expect([detached.status, detached.attachments]).toEqual(['available', []]);
      expectFault(await volumeAction(v.id, { 'os-detach': null }), 400, 'badRequest', `Invalid volume: Volume ${v.id} is not attached.`);
      expectFault(await volumeAction(v.id, { 'os-unreserve': null }), 400, 'badRequest', /must be attaching to unreserve/);
    });

    it('refuses malformed volume actions and answers admin actions', async () => {
      const v = await createVolume();
      expectFault(await volumeAction(v.id, { 'os-fly': null }), 400, 'badRequest', /^There is no such action: os-fly/);
      expectFault(await volumeAction(v.id, { 'os-reserve': null, 'os-unreserve': null }), 400, 'badRequest', 'Malformed request body');
      expectFault(await volumeAction(v.id, []), 400, 'badRequest', 'Malformed request body');
      expectFault(await volumeAction(v.id, { 'os-attach': { mountpoint: '/dev/vdb' } }), 400, 'badRequest', /instance_uuid/);
      expectFault(await volumeAction(v.id, { 'os-attach': { instance_uuid: 'nope', mountpoint: '/dev/vdb' } }), 400, 'badRequest', /instance_uuid/);
      expectFault(await volumeAction(v.id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '' } }), 400, 'badRequest', /os-attach\.mountpoint\. Value: "". must not be empty$/);
      expectFault(await volumeAction(v.id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: 'm'.repeat(256) } }), 400, 'badRequest', /must be at most 255 characters$/);
      expectFault(await volumeAction(v.id, { 'os-reserve': { now: true } }), 400, 'badRequest');
      expectFault(await volumeAction(MISSING, { 'os-reserve': null }), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);
      expect(await volumeStatus(v.id)).toBe('available');

      let r = await volumeAction(v.id, { 'os-reset_status': { status: 'error' } });
      expect([r.status, await volumeStatus(v.id)]).toEqual([202, 'error']);
      expectFault(await volumeAction(v.id, { 'os-reset_status': { status: 'sideways' } }), 400, 'badRequest', /Volume status is invalid/);
      r = await volumeAction(v.id, { 'os-force_delete': {} });
      expect(r.status).toBe(202);
      expectFault(await f.call('GET', `${P}/volumes/${v.id}`), 404, 'itemNotFound');
    });

    it('refuses to delete a volume that still has snapshots', async () => {
      const v = await createVolume();
      const s = await f.call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: v.id } } });
      expect(s.status).toBe(202);
      expectFault(await f.call('DELETE', `${P}/volumes/${v.id}`), 400, 'badRequest', `Invalid volume: Volume ${v.id} still has 1 dependent snapshots.`);
      expectFault(await volumeAction(v.id, { 'os-force_delete': null }), 400, 'badRequest', /dependent snapshots/);
      expect(await volumeStatus(v.id)).toBe('available');
    });
  });

  describe('request-level errors, always in the fault format and never 5xx', () => {
    it('a URL project other than the token project is 400 "Malformed request url"', async () => {
      const v = await createVolume();
      for (const [method, path] of [
        ['GET', '/v3/other/volumes'],
        ['GET', `/v3/other/volumes/${v.id}`],
        ['GET', '/v3/other/snapshots'],
        ['POST', `/v3/other/snapshots/${MISSING}/action`],
      ] as const) {
        expectFault(await f.call(method, path, { body: method === 'POST' ? { 'os-force_delete': null } : undefined }), 400, 'badRequest', 'Malformed request url');
      }
      // The token alone names the project; `alice` without a colon is alice in project alice.
      expectFault(await f.call('GET', `${P}/volumes`, { token: 'alice' }), 400, 'badRequest', 'Malformed request url');
      expect((await f.call('GET', '/v3/alice/volumes', { token: 'alice' })).status).toBe(200);
    });

    it('without X-Auth-Token noauth answers the legacy handshake (204), not the resource', async () => {
      const r = await f.call('GET', `${P}/volumes`, { token: null, headers: { 'X-Auth-User': 'bob', 'X-Auth-Project-Id': 'proj' } });
      expect([r.status, r.text]).toEqual([204, '']);
      expect(r.headers.get('X-Auth-Token')).toBe('bob:proj');
      expect(r.headers.get('X-Server-Management-Url')).toBe(`http://localhost${P}/volumes`);
    });

    it('malformed JSON, wrong or missing content type, empty and oversized bodies', async () => {
      const post = (raw: string | Uint8Array, contentType?: string) =>
        f.call('POST', `${P}/volumes`, { raw, headers: contentType ? { 'Content-Type': contentType } : {} });
      expectFault(await post('{"volume": {"size": 1}', 'application/json'), 400, 'badRequest', 'Malformed request body');
      expectFault(await post('', 'application/json'), 400, 'badRequest', 'Malformed request body');
      expectFault(await post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'application/json'), 400, 'badRequest', 'Malformed request body');
      expectFault(await post('{"volume": {"size": 1}}', 'text/plain'), 415, 'badMediaType', 'Unsupported Content-Type');
      expectFault(await post('{"volume": {"size": 1}}', 'application/xml'), 415, 'badMediaType');
      // No Content-Type (bytes: a string body would get text/plain from fetch): Cinder ignores the
      // body, so the create has none.
      expectFault(await post(new TextEncoder().encode('{"volume": {"size": 1}}')), 400, 'badRequest', 'Malformed request body');
      // Text PostgreSQL cannot store is refused before it reaches the database.
      for (const raw of ['{"volume": {"size": 1, "name": "a\\u0000b"}}', '{"volume": {"size": 1, "name": "\\ud800"}}', '{"volume": {"size": 1, "metadata": {"k\\u0000": "v"}}}']) {
        expectFault(await post(raw, 'application/json'), 400, 'badRequest', /NUL characters .* or unpaired surrogates/);
      }
      expect((await post('{"volume": {"size": 1, "name": "\\ud83d\\ude00"}}', 'application/json')).json.volume.name).toBe('\u{1F600}');
      // The JSON media types Cinder accepts, parameters ignored.
      expect((await post('{"volume": {"size": 1}}', 'application/json; charset=utf-8')).status).toBe(202);
      expect((await post('{"volume": {"size": 1}}', 'application/vnd.openstack.volume+json')).status).toBe(202);

      const big = JSON.stringify({ volume: { size: 1, description: 'x'.repeat(70 * 1024) } });
      expectFault(await post(big, 'application/json'), 413, 'overLimit', 'Request is too large.');
      const bigAction = await f.call('POST', `${P}/snapshots/${MISSING}/action`, { raw: big, headers: { 'Content-Type': 'application/json' } });
      expectFault(bigAction, 413, 'overLimit');
      expect((await f.call('GET', `${P}/volumes`)).json.volumes).toHaveLength(3);
    });

    it('ids that are not UUIDs are "not found", as in Cinder', async () => {
      for (const [path, what] of [
        [`${P}/volumes/not-a-uuid`, 'Volume not-a-uuid'],
        [`${P}/snapshots/not-a-uuid`, 'Snapshot not-a-uuid'],
        [`${P}/snapshots/12345678-1234-1234-1234-12345678901`, 'Snapshot 12345678-1234-1234-1234-12345678901'],
        [`${P}/snapshots/not-a-uuid/metadata`, 'Snapshot not-a-uuid'],
        [`${P}/snapshots/not-a-uuid/transitions`, 'Snapshot not-a-uuid'],
      ] as const) {
        expectFault(await f.call('GET', path), 404, 'itemNotFound', `${what} could not be found.`);
      }
      expectFault(await f.call('POST', `${P}/snapshots/xyz/action`, { body: { 'os-force_delete': null } }), 404, 'itemNotFound');
      expectFault(await f.call('DELETE', `${P}/volumes/xyz`), 404, 'itemNotFound');
    });

    it('unknown routes and methods are itemNotFound', async () => {
      expectFault(await f.call('GET', '/v2/proj/volumes'), 404, 'itemNotFound');
      expectFault(await f.call('GET', `${P}/backups`), 404, 'itemNotFound');
      expectFault(await f.call('PATCH', `${P}/volumes/${MISSING}`, { body: {} }), 404, 'itemNotFound');
    });

    it('bad paging parameters are 400, never 5xx', async () => {
      for (const collection of ['volumes', 'volumes/detail', 'snapshots', 'snapshots/detail']) {
        for (const [query, message] of [
          ['limit=-1', /limit param must be positive/],
          ['limit=abc', /limit param must be an integer/],
          ['limit=99999999999', /limit param is too large/],
          ['offset=x', /offset param must be an integer/],
          ['marker=not-a-uuid', /marker/],
          [`marker=${MISSING}`, `Invalid input received: marker [${MISSING}] not found.`],
          ['sort=name:sideways', /sort direction/],
          ['sort=colour', /sort key must be one of/],
          ['sort_key=colour', /sort key must be one of/],
          ['sort_dir=up', /sort direction/],
          ['sort=name&sort_key=name', /cannot be used with the 'sort' parameter/],
          ['all_tenants=maybe', "Invalid input for field/attribute all_tenants. Value: \"maybe\". Value for 'all_tenants' is not a boolean."],
          ['name=%00', /NUL/],
          ['status=a%00b', /NUL/],
        ] as const) {
          const r = await f.call('GET', `${P}/${collection}?${query}`);
          expect([collection, query, r.status]).toEqual([collection, query, 400]);
          expectFault(r, 400, 'badRequest', message);
        }
      }
    });

    it('serves /openapi.json, a parseable OpenAPI 3.1 document covering every route', async () => {
      const r = await f.call('GET', '/openapi.json', { token: null });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.json).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String) } });
      const paths = Object.keys(r.json.paths);
      for (const p of [
        '/v3/{project_id}/volumes',
        '/v3/{project_id}/volumes/{id}/action',
        '/v3/{project_id}/snapshots',
        '/v3/{project_id}/snapshots/detail',
        '/v3/{project_id}/snapshots/{id}',
        '/v3/{project_id}/snapshots/{id}/action',
        '/v3/{project_id}/snapshots/{id}/metadata/{key}',
        '/v3/{project_id}/snapshots/{id}/admin_metadata',
        '/v3/{project_id}/snapshots/{id}/transitions',
      ]) {
        expect(paths).toContain(p);
      }
      // The action body schema names the compute callback and its new fields.
      const action = JSON.stringify(r.json.paths['/v3/{project_id}/snapshots/{id}/action'].post.requestBody);
      expect(action).toContain('os-update_snapshot_status');
      expect(action).toContain('compute_snapshot_status');
    });

    it('every fault above is a 4xx in the fault format (spot check of odd requests)', async () => {
      const odd = [
        await f.call('POST', `${P}/volumes`, { raw: 'null', headers: { 'Content-Type': 'application/json' } }),
        await f.call('POST', `${P}/volumes`, { raw: '[]', headers: { 'Content-Type': 'application/json' } }),
        await f.call('POST', `${P}/volumes`, { raw: '"x"', headers: { 'Content-Type': 'application/json' } }),
        await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, metadata: { 'bad key!': 'x' } } } }),
        await f.call('PUT', `${P}/volumes/${MISSING}`, { body: { volume: { name: 'x' } } }),
        await f.call('POST', `${P}/snapshots/${MISSING}/action`, { raw: '{', headers: { 'Content-Type': 'application/json' } }),
      ];
      for (const r of odd) expectClientFault(r);
    });
  });
});
