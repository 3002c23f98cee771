// The volume resource (src/api/routes/volumes.ts) over HTTP: create, show, list, update, delete,
// the legacy attach actions and the admin actions, and bad requests against it, always answered
// in the fault format and never 5xx. Real createApp over SQLite and PostgreSQL, noauth, default
// policy.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, QCOW2_MAX_SIZE_GIB } from '../../../src/config.js';
import { createRemoteFsDriver } from '../../../src/drivers/remotefs/index.js';
import { buildService, type Service } from '../../../src/service.js';
import { freshDatabaseUrl, providers } from '../../support/databases.js';
import { TestCompute } from '../../support/doubles.js';
import { DEFAULT_VOLUME_TYPE_ID } from '../../../src/engine/store/index.js';
import { runVolumeJobs } from '../../support/harness.js';
import { volumeSettled } from '../../support/volume-settled.js';
import { apiFixture, createVolume as createVolumeIn, expectClientFault, expectFault, INSTANCE, MISSING, P, send, type ApiFixture } from '../helpers.js';

describe.each(providers)('REST API on %s: volumes', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const createVolume = (body?: Record<string, unknown>) => createVolumeIn(f, body);
  const volumeAction = (id: string, body: unknown) => f.call('POST', `${P}/volumes/${id}/action`, { body });
  const volumeStatus = async (id: string) => (await f.call('GET', `${P}/volumes/${id}`)).json.volume.status as string;

  describe('metadata, flags, summary and microversions', () => {
    const v312 = { 'OpenStack-API-Version': 'volume 3.12' };
    it("serves a volume's metadata as Cinder does: show, merge, replace, one item, delete", async () => {
      const v = await createVolume({ size: 1, metadata: { a: '1' } });
      expect(v.metadata).toEqual({ a: '1' });
      const url = `${P}/volumes/${v.id}/metadata`;
      expect((await f.call('GET', url)).json).toEqual({ metadata: { a: '1' } });
      expect((await f.call('POST', url, { body: { metadata: { b: '2' } } })).json).toEqual({ metadata: { a: '1', b: '2' } });
      expect((await f.call('PUT', url, { body: { metadata: { c: '3' } } })).json).toEqual({ metadata: { c: '3' } });
      expect((await f.call('PUT', `${url}/d`, { body: { meta: { d: '4' } } })).json).toEqual({ meta: { d: '4' } });
      expect((await f.call('GET', `${url}/d`)).json).toEqual({ meta: { d: '4' } });
      expectFault(await f.call('PUT', `${url}/d`, { body: { meta: { e: '5' } } }), 400, 'badRequest', 'Request body and URI mismatch');
      const del = await f.call('DELETE', `${url}/d`);
      expect([del.status, del.text]).toEqual([200, '']);
      expectFault(await f.call('GET', `${url}/d`), 404, 'itemNotFound', `Volume ${v.id} has no metadata with key d.`);
      expectFault(await f.call('DELETE', `${url}/d`), 404, 'itemNotFound', `Volume ${v.id} has no metadata with key d.`);
      expectFault(await f.call('GET', `${P}/volumes/${MISSING}/metadata`), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);
      // The volume's own view shows them; a volume update with metadata replaces them.
      expect((await f.call('PUT', `${P}/volumes/${v.id}`, { body: { volume: { metadata: { z: '26' } } } })).json.volume.metadata).toEqual({ z: '26' });
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.metadata).toEqual({ z: '26' });
    });

    it('refuses metadata changes of a volume in maintenance, and force-deletes it', async () => {
      const v = await createVolume();
      expect((await volumeAction(v.id, { 'os-reset_status': { status: 'maintenance' } })).status).toBe(202);
      expect(await volumeStatus(v.id)).toBe('maintenance');
      expectFault(await f.call('POST', `${P}/volumes/${v.id}/metadata`, { body: { metadata: { a: '1' } } }), 400, 'badRequest', /not allowed for volumes in maintenance status/);
      expectFault(await f.call('DELETE', `${P}/volumes/${v.id}`), 400, 'badRequest', /Volume status must be available/);
      expect((await volumeAction(v.id, { 'os-force_delete': {} })).status).toBe(202);
      await runVolumeJobs(f.h, v.id);
      expectFault(await f.call('GET', `${P}/volumes/${v.id}`), 404, 'itemNotFound');
    });

    it('resets to creating without asking the driver to create again', async () => {
      const v = await createVolume();
      expect((await volumeAction(v.id, { 'os-reset_status': { status: 'creating' } })).status).toBe(202);
      expect(await volumeStatus(v.id)).toBe('creating');
      expect(await f.h.db.prisma.outboxJob.count({ where: { volumeId: v.id, status: 'pending' } })).toBe(0);
      expect((await volumeAction(v.id, { 'os-force_delete': {} })).status).toBe(202);
    });

    it('sets bootable (200) and the readonly flag (202), shown in the view', async () => {
      const v = await createVolume();
      const r = await volumeAction(v.id, { 'os-set_bootable': { bootable: true } });
      expect([r.status, r.text]).toEqual([200, '']);
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.bootable).toBe('true');
      expect((await volumeAction(v.id, { 'os-set_bootable': { bootable: 'false' } })).status).toBe(200);
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.bootable).toBe('false');
      expectFault(await volumeAction(v.id, { 'os-set_bootable': {} }), 400, 'badRequest');
      expectFault(await volumeAction(v.id, { 'os-set_bootable': { bootable: 'maybe' } }), 400, 'badRequest');
      expect((await volumeAction(v.id, { 'os-update_readonly_flag': { readonly: true } })).status).toBe(202);
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.metadata).toEqual({ readonly: 'True' });
      expect((await volumeAction(v.id, { 'os-update_readonly_flag': { readonly: false } })).status).toBe(202);
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.metadata).toEqual({ readonly: 'False' });
      expectFault(await volumeAction(v.id, { 'os-update_readonly_flag': { readonly: 'x' } }), 400, 'badRequest');
      // The user's metadata routes do not show the admin's key.
      expect((await f.call('GET', `${P}/volumes/${v.id}/metadata`)).json.metadata).toEqual({});
    });

    it('answers the summary from 3.12 (metadata from 3.36), and is a missing volume before', async () => {
      await createVolume({ size: 2, metadata: { a: '1' } });
      await createVolume({ size: 3, metadata: { a: '2' } });
      expectFault(await f.call('GET', `${P}/volumes/summary`), 404, 'itemNotFound');
      expect((await f.call('GET', `${P}/volumes/summary`, { headers: v312 })).json).toEqual({ 'volume-summary': { total_count: 2, total_size: 5 } });
      expect((await f.call('GET', `${P}/volumes/summary`, { headers: { 'OpenStack-API-Version': 'volume 3.36' } })).json).toEqual({
        'volume-summary': { total_count: 2, total_size: 5, metadata: { a: ['1', '2'] } },
      });
    });

    it('gates the view fields and the count by microversion over HTTP', async () => {
      const v = await createVolume();
      const show = async (version: string) => (await f.call('GET', `${P}/volumes/${v.id}`, { headers: { 'OpenStack-API-Version': `volume ${version}` } })).json.volume;
      expect(await show('3.12')).not.toHaveProperty('group_id');
      expect(await show('3.13')).toHaveProperty('group_id', null);
      expect(await show('3.65')).toMatchObject({ consumes_quota: true, provider_id: null, cluster_name: null, shared_targets: false, service_uuid: null, volume_type_id: DEFAULT_VOLUME_TYPE_ID });
      const count = async (version: string) => (await f.call('GET', `${P}/volumes?with_count=true`, { headers: { 'OpenStack-API-Version': `volume ${version}` } })).json;
      expect(await count('3.44')).not.toHaveProperty('count');
      expect((await count('3.45')).count).toBe(1);
      expectFault(await f.call('GET', `${P}/volumes?with_count=maybe`, { headers: { 'OpenStack-API-Version': 'volume 3.45' } }), 400, 'badRequest');
    });
  });

  describe('CRUD and actions', () => {
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
      // Asynchronous, as in Cinder: deleting until the driver has removed it.
      expect(await volumeStatus(v.id)).toBe('deleting');
      await runVolumeJobs(f.h, v.id);
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

    it('refuses bad volume bodies, including sources this service cannot build from or cannot find', async () => {
      const bad: unknown[] = [
        {},
        { volume: {} },
        { volume: { size: 0 } },
        { volume: { size: -1 } },
        { volume: { size: 1.5 } },
        { volume: { size: 'big' } },
        { volume: { size: 1, colour: 'red' } },
        { volume: { size: 1 }, extra: true },
        { volume: { size: 1, backup_id: MISSING } },
        { volume: { size: 1, imageRef: 'cirros' } },
        { volume: { size: 1, name: 'a\u0000b' } },
        { volume: { size: 1, metadata: { '': 'b' } } },
        { volume: { size: 1, metadata: { a: 1 } } },
        { volume: { size: 1, metadata: { a: 'v'.repeat(256) } } },
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
      expectFault(await f.call('PUT', `${P}/volumes/${v.id}`, { body: { volume: { metadata: { a: 7 } } } }), 400, 'badRequest', /metadata values must be strings/);
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, snapshot_id: MISSING } } }), 404, 'itemNotFound', `Snapshot ${MISSING} could not be found.`);
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, source_volid: MISSING } } }), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, backup_id: MISSING } } }), 400, 'badRequest', /with backup_id is not supported/);
      expect((await f.call('GET', `${P}/volumes`)).json.volumes).toHaveLength(1);
    });

    it('refuses to connect or attach a volume still being created, with 400 and before any driver work', async () => {
      const r = await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1 } } });
      expect(r.json.volume.status).toBe('creating');
      const id = r.json.volume.id as string;
      expectFault(await volumeAction(id, { 'os-initialize_connection': { connector: { host: 'compute-1' } } }), 400, 'badRequest', /is creating; a connection can be initialized once it is not/);
      expectFault(
        await volumeAction(id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } }),
        400,
        'badRequest',
        /Volume status must be available or reserved or attaching to attach, but current status is: creating/,
      );
      expect((await f.call('GET', `${P}/volumes/${id}`)).json.volume).toMatchObject({ status: 'creating', attachments: [] });
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
      expectFault(await volumeAction(v.id, { 'os-unreserve': null }), 400, 'badRequest', /must be reserved or attaching to unreserve/);
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
      // A status the machine has no resting state for is refused, and recorded.
      expectFault(await volumeAction(v.id, { 'os-reset_status': { status: 'uploading' } }), 400, 'badRequest', /cannot reset a volume in status error to uploading/);
      r = await volumeAction(v.id, { 'os-force_delete': {} });
      expect([r.status, await volumeStatus(v.id)]).toEqual([202, 'deleting']);
      await runVolumeJobs(f.h, v.id);
      expectFault(await f.call('GET', `${P}/volumes/${v.id}`), 404, 'itemNotFound');
    });

    it('answers the volume machine history to admins, and keeps it after the volume is gone', async () => {
      const v = await createVolume();
      expect((await volumeAction(v.id, { 'os-reserve': null })).status).toBe(202);
      expectFault(await volumeAction(v.id, { 'os-reserve': null }), 400, 'badRequest');
      expect((await f.call('DELETE', `${P}/volumes/${v.id}`)).status).toBe(400);
      expect((await volumeAction(v.id, { 'os-force_delete': null })).status).toBe(202);
      await runVolumeJobs(f.h, v.id);
      const r = await f.call('GET', `${P}/volumes/${v.id}/transitions`);
      expect(r.status).toBe(200);
      const rows = r.json.transitions as Array<{ version: number; from_phase: string | null; to_phase: string; event: string; source: string; rejected: boolean; reason: string | null }>;
      expect(rows.map((t) => [t.version, t.from_phase, t.to_phase, t.event, t.source, t.rejected])).toEqual([
        [1, null, 'creating', 'volume.create', 'api', false],
        [2, 'creating', 'available', 'storage.done', 'driver', false],
        [3, 'available', 'attaching', 'os-reserve', 'api', false],
        [3, 'attaching', 'attaching', 'os-reserve', 'api', true],
        [3, 'attaching', 'attaching', 'volume.delete', 'api', true],
        [4, 'attaching', 'deleting', 'os-force_delete', 'admin', false],
        [5, 'deleting', 'deleted', 'storage.done', 'driver', false],
      ]);
      expect(rows[3]!.reason).toBe('os-reserve not allowed in phase attaching (status attaching)');
      // Admin only (noauth callers are admins; test/api/keystone-policy.test.ts refuses members).
      expectFault(await f.call('GET', `${P}/volumes/${MISSING}/transitions`), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);
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

  describe('bad requests, always in the fault format and never 5xx', () => {
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

    it('refuses JSON nested 5,000 levels deep with 400, and writes nothing', async () => {
      const deep = `{"volume":{"size":1,"metadata":${'['.repeat(5_000)}${']'.repeat(5_000)}}}`;
      const r = await f.call('POST', `${P}/volumes`, { raw: deep, headers: { 'Content-Type': 'application/json' } });
      expectFault(r, 400, 'badRequest', 'Malformed request body: JSON nested more than 32 levels deep.');
      expect(await f.h.db.prisma.volume.count()).toBe(0);
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

  describe('limits', () => {
    it('answers a size over VOLUME_MAX_SIZE_GB as Cinder answers per_volume_gigabytes: 413, Retry-After 0, no row', async () => {
      for (const size of [QCOW2_MAX_SIZE_GIB + 1, 3119190, 100000000, 2147483647, '3119190']) {
        const r = await f.call('POST', `${P}/volumes`, { body: { volume: { size } } });
        expect([r.status, r.headers.get('retry-after'), r.json]).toEqual([
          413,
          '0',
          { overLimit: { code: 413, message: `VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit ${QCOW2_MAX_SIZE_GIB}G.`, retryAfter: '0' } },
        ]);
      }
      // Past Cinder's size type it is the schema's 400, as in Cinder.
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 2147483648 } } }), 400, 'badRequest', /volume\.size/);
      expect(await f.h.db.prisma.volume.count()).toBe(0);
      expect((await f.call('POST', `${P}/volumes`, { body: { volume: { size: QCOW2_MAX_SIZE_GIB } } })).status).toBe(202);
    });

    it('refuses volume metadata over METADATA_MAX_ITEMS with 403, on create, update and the metadata routes alike', async () => {
      const items = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
      const v = await createVolume({ size: 1, metadata: items(128) });
      expect(Object.keys(v.metadata as object)).toHaveLength(128);
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, metadata: items(129) } } }), 403, 'forbidden', 'Maximum number of metadata items exceeds 128');
      expectFault(await f.call('PUT', `${P}/volumes/${v.id}`, { body: { volume: { metadata: items(129) } } }), 403, 'forbidden', 'Maximum number of metadata items exceeds 128');
      expectFault(await f.call('POST', `${P}/volumes/${v.id}/metadata`, { body: { metadata: { another: 'v' } } }), 403, 'forbidden', 'Maximum number of metadata items exceeds 128');
      expect(await f.h.db.prisma.volume.count()).toBe(1);
      expect(await f.h.db.prisma.volumeMetadata.count({ where: { deleted: false } })).toBe(128);
    });
  });
});

/**
 * The size limit in front of the real RemoteFS driver: sizes qcow2 cannot hold used to reach
 * `qemu-img create`, answer 500 and leave a volume in `error`.
 */
describe.each(providers)('volume sizes on the RemoteFS driver (real qemu-img) on %s', (provider) => {
  let service: Service | undefined;
  let share = '';
  beforeEach(async () => {
    share = await mkdtemp(path.join(tmpdir(), 'volume-sizes-'));
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await rm(share, { recursive: true, force: true });
  });
  const start = async (env: Record<string, string>, logger = pino({ level: 'silent' })) => {
    const config = loadConfig({ DATABASE_URL: await freshDatabaseUrl(provider), REMOTEFS_SHARE: share, LOG_LEVEL: 'silent', ...env });
    service = await buildService(config, { compute: new TestCompute(), logger, ...(config.VOLUME_DRIVER === 'bookkeeping' ? { driver: createRemoteFsDriver(share) } : {}) });
    return (size: number) => send(service!.app, 'POST', '/v3/p/volumes', { body: { volume: { size } } }, 'u:p');
  };
  const rows = () => service!.db.prisma.volume.findMany({ select: { size: true, status: true }, orderBy: { size: 'asc' } });

  it('refuses what qcow2 cannot hold with 413 before the driver runs, and creates what it can', async () => {
    const create = await start({});
    for (const size of [3119190, 100000000, 2147483647]) {
      const r = await create(size);
      expectFault(r, 413, 'overLimit', `VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit 2097152G.`);
    }
    expect([await rows(), await readdir(share)]).toEqual([[], []]);
    const r = await create(1);
    expect([r.status, r.json.volume.status]).toEqual([202, 'creating']);
    expect(await volumeSettled(service!.engine, r.json.volume.id)).toBe('available');
    expect(await readdir(share)).toContain(`volume-${r.json.volume.id}`);
  });

  it('leaves a volume in error, with the reason, when the driver fails within the limit', async () => {
    // A limit above what qcow2 holds (the bookkeeping setting allows one) lets the size through.
    const logged: Array<{ level: number; msg: string }> = [];
    const create = await start(
      { VOLUME_DRIVER: 'bookkeeping', VOLUME_MAX_SIZE_GB: String(QCOW2_MAX_SIZE_GIB + 1) },
      pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) }),
    );
    // Accepted (the create is asynchronous, as in Cinder); the driver's refusal is the volume's error.
    const r = await create(QCOW2_MAX_SIZE_GIB + 1);
    expect([r.status, r.json.volume.status]).toEqual([202, 'creating']);
    expect(await volumeSettled(service!.engine, r.json.volume.id)).toBe('error');
    expect(await rows()).toEqual([{ size: QCOW2_MAX_SIZE_GIB + 1, status: 'error' }]);
    expect((await service!.engine.store.readVolume(r.json.volume.id))?.errorReason).toMatch(/^driver_error: /);
    expect(logged.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  });
});
