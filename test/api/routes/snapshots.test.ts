// The snapshot resource (src/api/routes/snapshots.ts) over HTTP: create (force and microversion
// 3.66), list/detail with paging and all_tenants, show, update, delete (202, then the worker),
// metadata, the admin actions os-reset_status and os-force_delete, and the extensions
// os-reconcile, admin_metadata and transitions. Real createApp over SQLite and PostgreSQL, noauth, default
// policy. The compute callback (os-update_snapshot_status) has its own contract:
// ../snapshot-callback.test.ts; generated hostile requests: snapshots.adversarial.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runVolumeJobs } from '../../support/harness.js';
import { providers } from '../../support/databases.js';
import { apiFixture, expectFault, INSTANCE, type ApiFixture } from '../helpers.js';
import { snapshotSteps } from '../snapshot-steps.js';

const P = '/v3/proj';
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';
const V366 = { 'OpenStack-API-Version': 'volume 3.66' };
const V365 = { 'OpenStack-API-Version': 'volume 3.65' };

describe.each(providers)('REST API on %s: snapshots', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const createVolume = async (project = 'proj') => {
    const r = await f.call('POST', `/v3/${project}/volumes`, { body: { volume: { size: 3, name: 'vol' } }, token: `alice:${project}` });
    expect(r.status, r.text).toBe(202);
    await runVolumeJobs(f.h, r.json.volume.id);
    return r.json.volume.id as string;
  };
  const attach = async (volumeId: string) => {
    for (const body of [
      { 'os-reserve': null },
      { 'os-initialize_connection': { connector: { host: 'compute-1' } } },
      { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } },
    ]) {
      const r = await f.call('POST', `${P}/volumes/${volumeId}/action`, { body });
      expect(r.status, r.text).toBeLessThan(300);
    }
    expect((await f.call('GET', `${P}/volumes/${volumeId}`)).json.volume.status).toBe('in-use');
  };
  const createSnapshot = (snapshot: Record<string, unknown>, headers: Record<string, string> = {}, project = 'proj') =>
    f.call('POST', `/v3/${project}/snapshots`, { body: { snapshot }, headers, token: `alice:${project}` });
  const show = (id: string) => f.call('GET', `${P}/snapshots/${id}`);
  const snapshotCount = () => f.h.db.prisma.snapshot.count();

  describe('create', () => {
    it('snapshots an available volume: 202 with the view, then the worker makes it available', async () => {
      const vol = await createVolume();
      const r = await createSnapshot({ volume_id: vol, name: 's1', description: 'first', metadata: { k: 'v' } });
      expect(r.status).toBe(202);
      const s = r.json.snapshot;
      expect(s).toEqual({
        id: expect.any(String),
        created_at: expect.any(String),
        updated_at: expect.any(String),
        name: 's1',
        description: 'first',
        volume_id: vol,
        status: 'creating',
        size: 3,
        metadata: { k: 'v' },
      });
      // From 3.41 the view names who made it; the extended attributes are for show and the detail list only.
      const later = await createSnapshot({ volume_id: vol, name: 's2' }, { 'OpenStack-API-Version': 'volume 3.41' });
      expect(later.json.snapshot).toMatchObject({ user_id: 'alice', group_snapshot_id: null });
      expect(later.json.snapshot).not.toHaveProperty('os-extended-snapshot-attributes:progress');
      await f.h.worker.drain();
      const shown = await show(s.id);
      expect(shown.status).toBe(200);
      expect(shown.json.snapshot).toMatchObject({ id: s.id, status: 'available', 'os-extended-snapshot-attributes:progress': '100%' });
      // A detached volume goes the single-phase way: no compute involved.
      expect(f.h.compute.requests).toEqual([]);
    });

    it('accepts display_name for name, and name wins when both are sent', async () => {
      const vol = await createVolume();
      expect((await createSnapshot({ volume_id: vol, display_name: 'legacy' })).json.snapshot.name).toBe('legacy');
      expect((await createSnapshot({ volume_id: vol, display_name: 'legacy', name: 'new' })).json.snapshot.name).toBe('new');
    });

    it('in-use volume before 3.66: refused without force, accepted with force (boolean or Cinder string)', async () => {
      const vol = await createVolume();
      await attach(vol);
      expectFault(await createSnapshot({ volume_id: vol }), 400, 'badRequest', `Invalid volume: Volume ${vol} is in-use; snapshot it with force=true.`);
      expectFault(await createSnapshot({ volume_id: vol, force: false }, V365), 400, 'badRequest', /is in-use; snapshot it with force=true/);
      expectFault(await createSnapshot({ volume_id: vol, force: 'no' }), 400, 'badRequest', /is in-use/);
      expectFault(await createSnapshot({ volume_id: vol, force: 'maybe' }), 400, 'badRequest', /snapshot\.force/);
      expectFault(await createSnapshot({ volume_id: vol, force: 1 }), 400, 'badRequest', /snapshot\.force/);
      expect(await snapshotCount()).toBe(0);
      const forced = await createSnapshot({ volume_id: vol, force: true });
      expect([forced.status, forced.json.snapshot.status]).toEqual([202, 'creating']);
      expect((await createSnapshot({ volume_id: vol, force: 'True' }, V365)).status).toBe(202);
      // The attached volume makes it assisted: the storage-begin phase runs, then compute is asked.
      await f.h.worker.drain();
      expect(f.h.compute.requests.map((q) => [q.op, q.id])).toEqual([
        ['create', forced.json.snapshot.id],
        ['create', expect.any(String)],
      ]);
    });

    it('3.66 and later: an in-use volume needs no force, and force=false is refused', async () => {
      const vol = await createVolume();
      await attach(vol);
      const r = await createSnapshot({ volume_id: vol }, V366);
      expect(r.status).toBe(202);
      expect(r.headers.get('OpenStack-API-Version')).toBe('volume 3.66');
      expect((await createSnapshot({ volume_id: vol, force: true }, { 'OpenStack-API-Version': 'volume latest' })).status).toBe(202);
      expectFault(
        await createSnapshot({ volume_id: vol, force: false }, V366),
        400,
        'badRequest',
        "Invalid value 'False' for force. Microversion 3.66 and later do not accept force=False.",
      );
      expectFault(await createSnapshot({ volume_id: vol, force: 'false' }, { 'OpenStack-API-Version': 'volume 3.70' }), 400, 'badRequest', /do not accept force=False/);
      expect(await snapshotCount()).toBe(2);
    });

    it('refuses bad bodies, unknown volumes and volumes in other states', async () => {
      const vol = await createVolume();
      for (const snapshot of [
        {},
        { volume_id: 'nope' },
        { volume_id: vol, colour: 'red' },
        { volume_id: vol, name: 'x'.repeat(256) },
        { volume_id: vol, description: 'line\nbreak' },
        { volume_id: vol, metadata: { 'bad key!': 'v' } },
        { volume_id: vol, metadata: { k: 1 } },
      ]) {
        const r = await createSnapshot(snapshot);
        expect([JSON.stringify(snapshot), r.status]).toEqual([JSON.stringify(snapshot), 400]);
        expectFault(r, 400, 'badRequest', /Invalid input for field|is a required property|Additional properties/);
      }
      expectFault(await f.call('POST', `${P}/snapshots`, { body: { volume_id: vol } }), 400, 'badRequest', /'snapshot' is a required property/);
      // Each refusal says what is wrong with the field.
      for (const [snapshot, message] of [
        [{ volume_id: vol, name: 'x'.repeat(256) }, /snapshot\.name\. Value: "x+\.\.\.\. must be at most 255 characters$/],
        [{ volume_id: vol, name: 5 }, /snapshot\.name\. Value: 5\. must be a string or null$/],
        [{ volume_id: vol, description: 'd'.repeat(256) }, /snapshot\.description\. .* must be at most 255 characters$/],
        [{ volume_id: vol, description: 'line\nbreak' }, /must contain printable characters only$/],
        [{ volume_id: vol, metadata: { k: 'v'.repeat(256) } }, /snapshot\.metadata\.k\. .* metadata values must be at most 255 characters$/],
        [{ volume_id: vol, metadata: { k: 1 } }, /metadata values must be strings$/],
      ] as const) {
        expectFault(await createSnapshot(snapshot), 400, 'badRequest', message);
      }
      expectFault(await createSnapshot({ volume_id: MISSING }), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);
      await f.call('POST', `${P}/volumes/${vol}/action`, { body: { 'os-reserve': null } });
      expectFault(await createSnapshot({ volume_id: vol, force: true }), 400, 'badRequest', `Invalid volume: Volume ${vol} status must be available or in-use, but is attaching.`);
      expect(await snapshotCount()).toBe(0);
    });
  });

  describe('list, detail and show', () => {
    it('pages with limit and marker, newest first, and links the next page with snapshots_links', async () => {
      const vol = await createVolume();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await createSnapshot({ volume_id: vol, name: `s${i}` })).json.snapshot.id);
        f.h.clock.advance(1);
      }
      const newestFirst = [...ids].reverse();
      for (const collection of ['snapshots', 'snapshots/detail']) {
        const seen: string[] = [];
        let next: string | null = `${P}/${collection}?limit=2`;
        const pageSizes: number[] = [];
        while (next) {
          const r = await f.call('GET', next);
          expect(r.status).toBe(200);
          const page = r.json.snapshots as Array<{ id: string; name: string; status: string }>;
          pageSizes.push(page.length);
          seen.push(...page.map((s) => s.id));
          for (const s of page) expect(s).toMatchObject({ volume_id: vol, status: 'creating', size: 3, metadata: {} });
          if (r.json.snapshots_links) {
            expect(r.json.snapshots_links).toEqual([{ rel: 'next', href: expect.stringContaining(`marker=${page.at(-1)!.id}`) }]);
            const url: URL = new URL(r.json.snapshots_links[0].href);
            expect(url.searchParams.get('limit')).toBe('2');
            next = url.pathname + url.search;
          } else next = null;
        }
        expect([collection, pageSizes, seen]).toEqual([collection, [2, 2, 1], newestFirst]);
      }
      // Without limit: everything, no links. Sorting and filters are honoured.
      const all = await f.call('GET', `${P}/snapshots`);
      expect(all.json.snapshots.map((s: { id: string }) => s.id)).toEqual(newestFirst);
      expect(all.json.snapshots_links).toBeUndefined();
      const byName = await f.call('GET', `${P}/snapshots?sort=name:asc`);
      expect(byName.json.snapshots.map((s: { name: string }) => s.name)).toEqual(['s0', 's1', 's2', 's3', 's4']);
      const filtered = await f.call('GET', `${P}/snapshots/detail?name=s3`);
      expect(filtered.json.snapshots.map((s: { id: string }) => s.id)).toEqual([ids[3]]);
      const offset = await f.call('GET', `${P}/snapshots?limit=2&offset=3`);
      expect(offset.json.snapshots.map((s: { id: string }) => s.id)).toEqual(newestFirst.slice(3, 5));
      // A marker is a snapshot of the listed project; an unknown one is not found, as in Cinder.
      expectFault(await f.call('GET', `${P}/snapshots?marker=${MISSING}`), 404, 'itemNotFound', `Snapshot ${MISSING} could not be found.`);
    });

    it('all_tenants lists every project for admins; without it only the caller project', async () => {
      const mine = await createVolume('proj');
      const theirs = await createVolume('other');
      const a = (await createSnapshot({ volume_id: mine, name: 'mine' })).json.snapshot.id;
      const b = (await createSnapshot({ volume_id: theirs, name: 'theirs' }, {}, 'other')).json.snapshot.id;
      const ids = async (q: string) => new Set((await f.call('GET', `${P}/snapshots${q}`)).json.snapshots.map((s: { id: string }) => s.id));
      expect(await ids('')).toEqual(new Set([a]));
      expect(await ids('?all_tenants=0')).toEqual(new Set([a]));
      expect(await ids('?all_tenants=1')).toEqual(new Set([a, b]));
      expect(await ids('?all_tenants=true&project_id=other')).toEqual(new Set([b]));
      const detail = await f.call('GET', `${P}/snapshots/detail?all_tenants=True`);
      const owners = Object.fromEntries(detail.json.snapshots.map((s: Record<string, string>) => [s.id, s['os-extended-snapshot-attributes:project_id']]));
      expect(owners).toEqual({ [a]: 'proj', [b]: 'other' });
    });

    it('show: unknown and deleted snapshots are 404', async () => {
      const vol = await createVolume();
      const id = (await createSnapshot({ volume_id: vol })).json.snapshot.id;
      expect((await show(id)).json.snapshot.id).toBe(id);
      expect((await show(id.toUpperCase())).json.snapshot.id).toBe(id);
      expectFault(await show(MISSING), 404, 'itemNotFound', `Snapshot ${MISSING} could not be found.`);
    });
  });

  describe('update and delete', () => {
    it('updates name and description (and their v1 aliases), refusing empty or unknown fields', async () => {
      const vol = await createVolume();
      const id = (await createSnapshot({ volume_id: vol, name: 'a' })).json.snapshot.id;
      let r = await f.call('PUT', `${P}/snapshots/${id}`, { body: { snapshot: { name: 'b', description: 'desc' } } });
      expect([r.status, r.json.snapshot.name, r.json.snapshot.description]).toEqual([200, 'b', 'desc']);
      r = await f.call('PUT', `${P}/snapshots/${id}`, { body: { snapshot: { display_name: 'c', display_description: null } } });
      expect([r.json.snapshot.name, r.json.snapshot.description]).toEqual(['c', null]);
      expect((await show(id)).json.snapshot).toMatchObject({ name: 'c', description: null, status: 'creating' });
      expectFault(await f.call('PUT', `${P}/snapshots/${id}`, { body: { snapshot: {} } }), 400, 'badRequest', /at least one of/);
      expectFault(await f.call('PUT', `${P}/snapshots/${id}`, { body: { snapshot: { status: 'available' } } }), 400, 'badRequest', /Additional properties/);
      expectFault(await f.call('PUT', `${P}/snapshots/${MISSING}`, { body: { snapshot: { name: 'x' } } }), 404, 'itemNotFound');
      expect((await show(id)).json.snapshot.status).toBe('creating');
    });

    it('delete answers 202 and the worker finishes it; deleting a creating snapshot is 400', async () => {
      const vol = await createVolume();
      const id = (await createSnapshot({ volume_id: vol })).json.snapshot.id;
      expectFault(
        await f.call('DELETE', `${P}/snapshots/${id}`),
        400,
        'badRequest',
        `Invalid snapshot: Snapshot ${id} status must be available, error or error_deleting to delete, but is creating.`,
      );
      await f.h.worker.drain();
      const del = await f.call('DELETE', `${P}/snapshots/${id}`);
      expect([del.status, del.text]).toEqual([202, '']);
      expect((await show(id)).json.snapshot.status).toBe('deleting');
      await f.h.worker.drain();
      expectFault(await show(id), 404, 'itemNotFound', `Snapshot ${id} could not be found.`);
      expectFault(await f.call('DELETE', `${P}/snapshots/${id}`), 404, 'itemNotFound');
      expect((await f.call('GET', `${P}/snapshots`)).json.snapshots).toEqual([]);
      // With its last snapshot gone, the volume can go too.
      expect((await f.call('DELETE', `${P}/volumes/${vol}`)).status).toBe(202);
    });
  });

  describe('metadata', () => {
    it('shows, merges, replaces, reads, sets and deletes items', async () => {
      const vol = await createVolume();
      const id = (await createSnapshot({ volume_id: vol, metadata: { a: '1' } })).json.snapshot.id;
      const base = `${P}/snapshots/${id}/metadata`;
      expect((await f.call('GET', base)).json).toEqual({ metadata: { a: '1' } });

      let r = await f.call('POST', base, { body: { metadata: { b: '2', a: '1b' } } });
      expect([r.status, r.json]).toEqual([200, { metadata: { a: '1b', b: '2' } }]);
      r = await f.call('PUT', base, { body: { metadata: { c: '3' } } });
      expect([r.status, r.json]).toEqual([200, { metadata: { c: '3' } }]);
      expect((await show(id)).json.snapshot.metadata).toEqual({ c: '3' });

      expect((await f.call('GET', `${base}/c`)).json).toEqual({ meta: { c: '3' } });
      r = await f.call('PUT', `${base}/d`, { body: { meta: { d: '4' } } });
      expect([r.status, r.json]).toEqual([200, { meta: { d: '4' } }]);
      expectFault(await f.call('PUT', `${base}/d`, { body: { meta: { e: '5' } } }), 400, 'badRequest', 'Request body and URI mismatch');
      expectFault(await f.call('PUT', `${base}/d`, { body: { meta: { d: '4', e: '5' } } }), 400, 'badRequest', 'Request body contains too many items');
      expectFault(await f.call('PUT', `${base}/d`, { body: { metadata: { d: '4' } } }), 400, 'badRequest');
      expectFault(await f.call('POST', base, { body: { metadata: { k: 'x'.repeat(256) } } }), 400, 'badRequest', /metadata\.k/);
      expectFault(await f.call('POST', base, { body: { metadata: { '': 'v' } } }), 400, 'badRequest');

      r = await f.call('DELETE', `${base}/c`);
      expect([r.status, r.text]).toEqual([200, '']);
      expectFault(await f.call('GET', `${base}/c`), 404, 'itemNotFound', 'Metadata item was not found');
      expectFault(await f.call('DELETE', `${base}/c`), 404, 'itemNotFound', 'Metadata item was not found');
      expect((await f.call('GET', base)).json).toEqual({ metadata: { d: '4' } });
      // A deleted key can be set again.
      expect((await f.call('POST', base, { body: { metadata: { c: 'again' } } })).json).toEqual({ metadata: { c: 'again', d: '4' } });
      // Keys that cannot exist (NUL, or outside the key alphabet) are simply not found.
      for (const key of ['%00', 'a%00b', '%F0%9F%92%A5', 'x'.repeat(300)]) {
        expectFault(await f.call('GET', `${base}/${key}`), 404, 'itemNotFound', 'Metadata item was not found');
        expectFault(await f.call('DELETE', `${base}/${key}`), 404, 'itemNotFound', 'Metadata item was not found');
        expectFault(await f.call('PUT', `${base}/${key}`, { body: { meta: { k: 'v' } } }), 400, 'badRequest', 'Request body and URI mismatch');
      }
      // Percent-encoded keys are decoded: "b:c d" is a legal key.
      expect((await f.call('PUT', `${base}/b%3Ac%20d`, { body: { meta: { 'b:c d': '5' } } })).status).toBe(200);
      expect((await f.call('GET', `${base}/b%3Ac%20d`)).json).toEqual({ meta: { 'b:c d': '5' } });
      expect((await f.call('DELETE', `${base}/b%3Ac%20d`)).status).toBe(200);
      expectFault(await f.call('GET', `${P}/snapshots/${MISSING}/metadata`), 404, 'itemNotFound');
      expectFault(await f.call('POST', `${P}/snapshots/${MISSING}/metadata`, { body: { metadata: { a: 'b' } } }), 404, 'itemNotFound');
    });
  });

  describe('metadata limits', () => {
    it('refuses more than METADATA_MAX_ITEMS items with 403 on create, POST, PUT and PUT of one key, writing nothing', async () => {
      const items = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));
      const tooMany = 'Maximum number of metadata items exceeds 128';
      const vol = await createVolume();
      expectFault(await createSnapshot({ volume_id: vol, metadata: items(129) }), 403, 'forbidden', tooMany);
      expect((await f.call('GET', `${P}/snapshots`)).json.snapshots).toEqual([]);

      const id = (await createSnapshot({ volume_id: vol, metadata: items(127) })).json.snapshot.id;
      const base = `${P}/snapshots/${id}/metadata`;
      expectFault(await f.call('POST', base, { body: { metadata: items(2, 'n') } }), 403, 'forbidden', tooMany);
      expectFault(await f.call('PUT', base, { body: { metadata: items(129, 'n') } }), 403, 'forbidden', tooMany);
      expect(Object.keys((await f.call('GET', base)).json.metadata)).toHaveLength(127);
      expect((await f.call('PUT', `${base}/n0`, { body: { meta: { n0: 'v' } } })).status).toBe(200);
      expectFault(await f.call('PUT', `${base}/n1`, { body: { meta: { n1: 'v' } } }), 403, 'forbidden', tooMany);
      // Changing a key that is there adds nothing; a replacement of 128 is allowed.
      expect((await f.call('POST', base, { body: { metadata: { k0: 'changed' } } })).status).toBe(200);
      expect((await f.call('PUT', base, { body: { metadata: items(128, 'r') } })).status).toBe(200);
      expect(Object.keys((await f.call('GET', base)).json.metadata)).toHaveLength(128);
    });

    it('keeps keys to 1..255 characters of Cinder\'s alphabet and values to 255 characters (400)', async () => {
      const vol = await createVolume();
      const id = (await createSnapshot({ volume_id: vol })).json.snapshot.id;
      const base = `${P}/snapshots/${id}/metadata`;
      for (const metadata of [{ ['k'.repeat(256)]: 'v' }, { '': 'v' }, { 'bad*key': 'v' }, { k: 'v'.repeat(256) }, { k: 1 }, { k: null }]) {
        expectFault(await f.call('POST', base, { body: { metadata } }), 400, 'badRequest', /metadata/);
        expectFault(await createSnapshot({ volume_id: vol, metadata }), 400, 'badRequest', /snapshot\.metadata/);
      }
      expect((await f.call('POST', base, { body: { metadata: { ['k'.repeat(255)]: 'v'.repeat(255) } } })).status).toBe(200);
    });
  });

  describe('bad requests, always in the fault format and never 5xx', () => {
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
  });
});

describe.each(providers)('REST API on %s: snapshot admin actions and extensions', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });
  const { snapshotOn, transitions, last, adminMetadata, show, action, callback, volume, waitingForCompute } = snapshotSteps(() => f);

  describe('admin actions', () => {
    it('os-reset_status moves a snapshot to available, error or error_deleting and refuses other statuses', async () => {
      const id = await waitingForCompute();
      expect((await action(id, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
      expect(await last(id)).toMatchObject({ event: 'admin.reset_status', source: 'admin', to_status: 'error' });
      expect((await action(id, { 'os-reset_status': { status: 'ERROR_deleting' } })).status).toBe(202);
      expect((await show(id)).status).toBe('error_deleting');
      for (const status of ['creating', 'deleting', 'deleted', 'in-use', '']) {
        expectFault(await action(id, { 'os-reset_status': { status } }), 400, 'badRequest', /Snapshot status is invalid, valid statuses are: available, error, error_deleting/);
      }
      expectFault(await action(id, { 'os-reset_status': {} }), 400, 'badRequest', /'status' is a required property/);
      expectFault(await action(id, { 'os-reset_status': null }), 400, 'badRequest');
      expect((await action(id, { 'os-reset_status': { status: 'available' } })).status).toBe(202);
      expect((await show(id)).status).toBe('available');
      expectFault(await action(MISSING, { 'os-reset_status': { status: 'available' } }), 404, 'itemNotFound');
    });

    it('os-force_delete deletes a snapshot in any state, through the worker', async () => {
      const vol = await volume(false);
      const id = await snapshotOn(vol);
      expectFault(await action(id, { 'os-force_delete': { now: true } }), 400, 'badRequest');
      const r = await action(id, { 'os-force_delete': {} });
      expect([r.status, r.text]).toEqual([202, '']);
      expect((await show(id)).status).toBe('deleting');
      const reports = await f.h.worker.drain();
      // The create job of the abandoned phase is cancelled, not run.
      expect(reports.map((x) => [x.kind, x.result])).toEqual([
        ['createSnapshot', 'cancelled'],
        ['deleteSnapshot', 'ran'],
      ]);
      expectFault(await f.call('GET', `${P}/snapshots/${id}`), 404, 'itemNotFound');
      expectFault(await action(id, { 'os-force_delete': null }), 404, 'itemNotFound');
      expect((await last(id))).toMatchObject({ to_phase: 'deleted', to_status: 'deleted' });
    });
  });

  describe('os-reconcile (an extension: Cinder has no such action)', () => {
    it('sends an error snapshot to creating.reconciling and an error_deleting one to deleting.reconciling; the verdict decides', async () => {
      const id = await waitingForCompute();
      expectFault(await action(id, { 'os-reconcile': null }), 400, 'badRequest', /status must be error or error_deleting to reconcile, but is creating/);
      expect((await action(id, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
      expectFault(await action(id, { 'os-reconcile': { now: true } }), 400, 'badRequest');
      f.h.driver.verdictFor.set(id, ['in_use']);
      const r = await action(id, { 'os-reconcile': null });
      expect([r.status, r.text]).toEqual([202, '']);
      expect(await last(id)).toMatchObject({ event: 'admin.reconcile', source: 'admin', from_phase: 'error', to_phase: 'creating.reconciling', to_status: 'creating', reason: null });
      await f.h.worker.drain();
      expect((await show(id)).status).toBe('available');
      expect((await transitions(id)).slice(-3).map((t) => [t.event, t.to_phase])).toEqual([
        ['admin.reconcile', 'creating.reconciling'],
        ['storage.reconciled', 'creating.storageComplete'],
        ['storage.done', 'available'],
      ]);
      expect(await adminMetadata(id)).toMatchObject({ reconcile_verdict: 'in_use', reconcile_evidence: '{"test":true}' });

      expect((await action(id, { 'os-reset_status': { status: 'error_deleting' } })).status).toBe(202);
      f.h.driver.verdictFor.set(id, ['not_merged']);
      expect((await action(id, { 'os-reconcile': {} })).status).toBe(202);
      expect(await last(id)).toMatchObject({ to_phase: 'deleting.reconciling', to_status: 'deleting' });
      await f.h.worker.drain();
      const failed = await last(id);
      expect(failed).toMatchObject({
        event: 'storage.reconciled',
        to_phase: 'error_deleting',
        reason: 'compute_timeout_not_merged: test driver says not_merged',
        payload: { phase: 'deleting.reconciling', verdict: 'not_merged', reason: 'test driver says not_merged', evidence: { test: true } },
      });
      expectFault(await action(MISSING, { 'os-reconcile': null }), 404, 'itemNotFound');
    });
  });

  describe('extensions', () => {
    it('transitions are the whole history, oldest first; admin_metadata shows the current keys', async () => {
      const id = await waitingForCompute();
      await callback(id, { status: 'creating', compute_snapshot_status: 'complete', compute_progress: '100%' });
      await f.h.worker.drain();
      const history = await transitions(id);
      expect(history.map((t) => [t.version, t.event, t.source, t.from_phase, t.to_phase])).toEqual([
        [1, 'snapshot.create', 'api', null, 'creating.storageBegin'],
        [2, 'storage.done', 'driver', 'creating.storageBegin', 'creating.computeAssisted'],
        [3, 'compute.status', 'compute', 'creating.computeAssisted', 'creating.storageComplete'],
        [4, 'storage.done', 'driver', 'creating.storageComplete', 'available'],
      ]);
      const ids = history.map((t) => t.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(history[0]).toMatchObject({ from_status: null, to_status: 'creating', rejected: false, reason: null, payload: { assisted: true } });
      expect(history[0]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
      const meta = await adminMetadata(id);
      expect(Object.keys(meta).sort()).toEqual(['compute_progress', 'compute_snapshot_status', 'create_info']);
      expect(JSON.parse(meta.create_info!)).toEqual({ snapshot_id: id, type: 'qcow2', new_file: expect.stringContaining(id) });
      expectFault(await f.call('GET', `${P}/snapshots/${MISSING}/transitions`), 404, 'itemNotFound');
      expectFault(await f.call('GET', `${P}/snapshots/${MISSING}/admin_metadata`), 404, 'itemNotFound');
    });
  });
});
