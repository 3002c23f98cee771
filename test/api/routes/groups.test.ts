// Group types, groups and group snapshots over HTTP (src/api/routes/group-types.ts, groups.ts):
// the real createApp over SQLite and PostgreSQL, noauth (admin), the default policy, with the
// group reactor joining parents to their children as the service does. A group snapshot's
// member snapshots run on the snapshot machine, their jobs through the outbox worker.
import { DEFAULT_VOLUME_TYPE_ID } from '../../../src/engine/store/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../../support/databases.js';
import { apiFixture, createVolume, expectClientFault, expectFault, MISSING, P, type ApiFixture } from '../helpers.js';

const V = (v: string) => ({ headers: { 'OpenStack-API-Version': `volume ${v}` } });
const LATEST = V('latest');
// Cinder's default type, which every deployment has (seeded by the volume types migration).
const VOLUME_TYPE = DEFAULT_VOLUME_TYPE_ID;

describe.each(providers)('REST API on %s: group types, groups and group snapshots', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider, { driver: undefined });
    f.h.manager.groupReactor.start();
  });
  afterEach(async () => {
    f?.h.manager.groupReactor.stop();
    await f?.close();
  });

  const call = (method: string, path: string, body?: unknown, version = LATEST) => f.call(method, `${P}${path}`, { ...version, ...(body !== undefined ? { body } : {}) });
  /** Runs every queued job and lets the reactor tell the parents, until nothing moves. */
  const settle = async () => {
    for (let i = 0; i < 10; i++) {
      await f.h.manager.groupReactor.idle();
      const ran = await f.h.worker.drain();
      await f.h.manager.groupReactor.idle();
      if (ran.length === 0) return;
    }
  };
  const groupType = async (name = `gt-${Math.random().toString(36).slice(2)}`) => {
    const r = await call('POST', '/group_types', { group_type: { name } });
    expect(r.status, r.text).toBe(202);
    return r.json.group_type.id as string;
  };
  const group = async (type?: string) => {
    const r = await call('POST', '/groups', { group: { name: 'g', group_type: type ?? (await groupType()), volume_types: [VOLUME_TYPE] } });
    expect(r.status, r.text).toBe(202);
    return r.json.group.id as string;
  };
  const member = async (groupId: string) => {
    const r = await call('POST', '/volumes', { volume: { size: 1, group_id: groupId, volume_type: VOLUME_TYPE } });
    expect(r.status, r.text).toBe(202);
    expect(r.json.volume.group_id).toBe(groupId);
    await settle();
    return r.json.volume.id as string;
  };
  const status = async (path: string, key: string) => (await call('GET', path)).json[key].status as string;

  it('group types: create, show, list by visibility and name, update, specs, delete; 409 on a taken name', async () => {
    const r = await call('POST', '/group_types', { group_type: { name: 'a', description: 'd', is_public: true, group_specs: { consistent_group_snapshot_enabled: '<is> True' } } });
    expect(r.status).toBe(202);
    expect(r.json.group_type).toMatchObject({ name: 'a', description: 'd', is_public: true, group_specs: { consistent_group_snapshot_enabled: '<is> True' } });
    const id = r.json.group_type.id;
    const hidden = (await call('POST', '/group_types', { group_type: { name: 'b', is_public: false } })).json.group_type.id;
    expectFault(await call('POST', '/group_types', { group_type: { name: 'a' } }), 409, 'conflictingRequest', 'Group Type a already exists.');

    const names = async (q: string) => (await call('GET', `/group_types${q}`)).json.group_types.map((t: { name: string }) => t.name);
    expect(await names('')).toEqual(['a']);
    expect(await names('?is_public=false')).toEqual(['b']);
    expect(await names('?is_public=None&sort=name:asc')).toEqual(['a', 'b']);
    expect(await names('?is_public=None&sort=name:desc')).toEqual(['b', 'a']);
    expectFault(await call('GET', '/group_types?is_public=maybe'), 400, 'badRequest');

    const updated = await call('PUT', `/group_types/${id}`, { group_type: { name: 'a2', description: 'new' } });
    expect(updated.json.group_type).toMatchObject({ id, name: 'a2', description: 'new' });

    expect((await call('POST', `/group_types/${hidden}/group_specs`, { group_specs: { k1: 'v1', k2: 'v2' } })).json).toEqual({ group_specs: { k1: 'v1', k2: 'v2' } });
    expect((await call('PUT', `/group_types/${hidden}/group_specs/k2`, { k2: 'v2b' })).json).toEqual({ k2: 'v2b' });
    expect((await call('GET', `/group_types/${hidden}/group_specs/k2`)).json).toEqual({ k2: 'v2b' });
    expectFault(await call('PUT', `/group_types/${hidden}/group_specs/k2`, { k3: 'x' }), 400, 'badRequest', 'Request body and URI mismatch');
    expect((await call('DELETE', `/group_types/${hidden}/group_specs/k1`)).status).toBe(202);
    expectFault(await call('GET', `/group_types/${hidden}/group_specs/k1`), 404, 'itemNotFound', `Group Type ${hidden} has no specs with key k1.`);
    expect((await call('GET', `/group_types/${hidden}/group_specs`)).json).toEqual({ group_specs: { k2: 'v2b' } });

    expect((await call('DELETE', `/group_types/${id}`)).status).toBe(202);
    expectFault(await call('GET', `/group_types/${id}`), 404, 'itemNotFound', `Group type ${id} could not be found.`);
    expectFault(await call('GET', '/group_types/default'), 404, 'itemNotFound');
  });

  it('gates every group resource by microversion as Cinder (types 3.11, groups 3.13, snapshots 3.14, resets 3.19 / 3.20)', async () => {
    expectFault(await call('GET', '/group_types', undefined, V('3.10')), 404, 'itemNotFound', 'API version 3.10 is not supported on this method.');
    expect((await call('GET', '/group_types', undefined, V('3.11'))).status).toBe(200);
    expectFault(await call('GET', '/groups', undefined, V('3.12')), 404, 'itemNotFound');
    expect((await call('GET', '/groups', undefined, V('3.13'))).status).toBe(200);
    expectFault(await call('GET', '/group_snapshots', undefined, V('3.13')), 404, 'itemNotFound');
    const g = await group();
    const shown = await call('GET', `/groups/${g}`, undefined, V('3.13'));
    expect(shown.json.group).not.toHaveProperty('group_snapshot_id');
    expect((await call('GET', `/groups/${g}`, undefined, V('3.14'))).json.group).toMatchObject({ group_snapshot_id: null, source_group_id: null });
    expectFault(await call('POST', `/groups/${g}/action`, { reset_status: { status: 'error' } }, V('3.19')), 404, 'itemNotFound');
    expect((await call('POST', `/groups/${g}/action`, { reset_status: { status: 'error' } }, V('3.20'))).status).toBe(202);
    expect(await status(`/groups/${g}`, 'group')).toBe('error');
    // A volume's group_id shows from 3.13 only.
    const v = await createVolume(f);
    expect(v).not.toHaveProperty('group_id');
    expect((await call('GET', `/volumes/${v.id}`, undefined, V('3.13'))).json.volume.group_id).toBeNull();
  });

  it('groups: create, show, list, add and remove member volumes, delete with its volumes; the machine history says how', async () => {
    const type = await groupType();
    const g = await group(type);
    expect(await status(`/groups/${g}`, 'group')).toBe('available');
    const shown = (await call('GET', `/groups/${g}`)).json.group;
    expect(shown).toMatchObject({ id: g, name: 'g', group_type: type, volume_types: [VOLUME_TYPE], availability_zone: 'nova' });
    expect((await call('GET', '/groups')).json.groups).toEqual([{ id: g, name: 'g' }]);

    const v1 = await member(g);
    const v2 = await member(g);
    expect((await call('GET', `/groups/${g}?list_volume=true`)).json.group.volumes.sort()).toEqual([v1, v2].sort());
    expectFault(await call('DELETE', `/volumes/${v1}`), 400, 'badRequest', /belong to a group/);

    expect((await call('PUT', `/groups/${g}`, { group: { name: 'renamed', remove_volumes: v2 } })).status).toBe(202);
    expect((await call('GET', `/volumes/${v2}`)).json.volume.group_id).toBeNull();
    expect((await call('GET', `/groups/${g}`)).json.group.name).toBe('renamed');
    expectFault(await call('PUT', `/groups/${g}`, { group: { remove_volumes: v2 } }), 400, 'badRequest', `Invalid volume: Cannot remove volume ${v2} from group ${g} because it is not in the group.`);
    expectFault(await call('PUT', `/groups/${g}`, { group: { add_volumes: MISSING } }), 400, 'badRequest', /because volume cannot be found/);
    expectFault(await call('PUT', `/groups/${g}`, { group: {} }), 400, 'badRequest', 'Name, description, add_volumes, and remove_volumes can not be all empty in the request body.');
    expect((await call('PUT', `/groups/${g}`, { group: { add_volumes: v2 } })).status).toBe(202);
    expect((await call('GET', `/volumes/${v2}`)).json.volume.group_id).toBe(g);

    expectFault(await call('DELETE', `/group_types/${type}`), 400, 'badRequest', `Group Type ${type} deletion is not allowed with groups present with the type.`);
    expectFault(await call('POST', `/groups/${g}/action`, { delete: { 'delete-volumes': false } }), 400, 'badRequest', /still contains volumes/);
    expect((await call('POST', `/groups/${g}/action`, { delete: { 'delete-volumes': true } })).status).toBe(202);
    expect(await status(`/groups/${g}`, 'group')).toBe('deleting');
    await settle();
    expectFault(await call('GET', `/groups/${g}`), 404, 'itemNotFound', `Group ${g} could not be found.`);
    expectFault(await call('GET', `/volumes/${v1}`), 404, 'itemNotFound');
    const history = (await call('GET', `/groups/${g}/transitions`)).json.transitions.map((t: { event: string; to_status: string }) => `${t.event}>${t.to_status}`);
    // Two updates, the delete, then the members' deletes as the volumes' machines report them.
    expect(history.slice(0, 4)).toEqual(['group.create>available', 'group.update>available', 'group.update>available', 'group.delete>deleting']);
    expect(history.at(-1)).toBe('members.changed>deleted');
  });

  it('group snapshots: one member snapshot per volume on its own machine; available once all are, deleted with them', async () => {
    const g = await group();
    const [v1, v2] = [await member(g), await member(g)];
    const r = await call('POST', '/group_snapshots', { group_snapshot: { group_id: g, name: 'gs' } });
    expect(r.status, r.text).toBe(202);
    const gs = r.json.group_snapshot.id as string;
    expect(r.json.group_snapshot).toEqual({ id: gs, name: 'gs', group_type_id: expect.any(String) });
    expect(await status(`/group_snapshots/${gs}`, 'group_snapshot')).toBe('creating');
    await settle();
    expect(await status(`/group_snapshots/${gs}`, 'group_snapshot')).toBe('available');
    const snaps = (await call('GET', '/snapshots')).json.snapshots as Array<{ id: string; volume_id: string; status: string }>;
    expect(snaps.map((s) => s.volume_id).sort()).toEqual([v1, v2].sort());
    expect(snaps.every((s) => s.status === 'available')).toBe(true);
    const children = await f.h.db.prisma.snapshot.findMany({ where: { groupSnapshotId: gs } });
    expect(children).toHaveLength(2);
    expect((await call('GET', '/group_snapshots/detail')).json.group_snapshots).toEqual([expect.objectContaining({ id: gs, group_id: g, status: 'available', name: 'gs' })]);

    // A group with snapshots is not deleted.
    expectFault(await call('POST', `/groups/${g}/action`, { delete: { 'delete-volumes': true } }), 400, 'badRequest', 'Invalid Group: Group has existing snapshots.');

    for (const s of ['creating', 'available', 'error']) {
      expect((await call('POST', `/group_snapshots/${gs}/action`, { reset_status: { status: s } })).status).toBe(202);
      expect(await status(`/group_snapshots/${gs}`, 'group_snapshot')).toBe(s);
    }
    expectFault(await call('POST', `/group_snapshots/${gs}/action`, { reset_status: { status: 'bogus' } }), 400, 'badRequest');
    expect((await call('DELETE', `/group_snapshots/${gs}`)).status).toBe(202);
    expect(await status(`/group_snapshots/${gs}`, 'group_snapshot')).toBe('deleting');
    await settle();
    expectFault(await call('GET', `/group_snapshots/${gs}`), 404, 'itemNotFound', `GroupSnapshot ${gs} could not be found.`);
    expect((await call('GET', '/snapshots')).json.snapshots).toEqual([]);
    const events = (await call('GET', `/group_snapshots/${gs}/transitions`)).json.transitions.map((t: { event: string; to_status: string }) => `${t.event}>${t.to_status}`);
    expect(events[0]).toBe('group_snapshot.create>creating');
    expect(events).toContain('children.changed>available');
    expect(events.at(-1)).toBe('children.changed>deleted');
  });

  it('a member snapshot that fails fails the group snapshot and, as Cinder, every other member', async () => {
    const g = await group();
    await member(g);
    await member(g);
    f.h.driver.failNext.push('createSnapshot');
    const gs = (await call('POST', '/group_snapshots', { group_snapshot: { group_id: g } })).json.group_snapshot.id as string;
    await settle();
    const row = (await call('GET', `/group_snapshots/${gs}`)).json.group_snapshot;
    expect(row.status).toBe('error');
    const statuses = ((await call('GET', '/snapshots')).json.snapshots as Array<{ status: string }>).map((s) => s.status);
    expect(statuses).toEqual(['error', 'error']);
    const reason = await f.h.db.prisma.groupSnapshot.findUniqueOrThrow({ where: { id: gs } });
    expect(reason.errorReason).toBe('member_snapshot_failed');
    // An error group snapshot is deleted with its (error) members.
    expect((await call('DELETE', `/group_snapshots/${gs}`)).status).toBe(202);
    await settle();
    expectFault(await call('GET', `/group_snapshots/${gs}`), 404, 'itemNotFound');
  });

  it('create-from-src: a group from a group snapshot and from a group, one new volume per source member, available once they all are', async () => {
    const type = await groupType();
    const g = await group(type);
    const sources = [await member(g), await member(g)];
    const gs = await call('POST', '/group_snapshots', { group_snapshot: { group_id: g } });
    expect(gs.status, gs.text).toBe(202);
    await settle();
    const gsId = gs.json.group_snapshot.id as string;
    expect(await status(`/group_snapshots/${gsId}`, 'group_snapshot')).toBe('available');
    const memberSnapshots = (await f.h.manager.engine.store.groups.groupSnapshotChildren(gsId)).map((s) => s.id);
    expect(memberSnapshots).toHaveLength(2);

    const made = async (source: Record<string, string>, name: string) => {
      const r = await call('POST', '/groups/action', { 'create-from-src': { ...source, name, description: 'd' } });
      expect(r.status, r.text).toBe(202);
      expect(r.json).toEqual({ group: { id: expect.any(String), name } });
      const id = r.json.group.id as string;
      // Committed in `creating`: its members are still being copied.
      expect(await status(`/groups/${id}`, 'group')).toBe('creating');
      await settle();
      const shown = (await call('GET', `/groups/${id}`)).json.group;
      expect(shown).toMatchObject({ status: 'available', group_type: type, volume_types: [VOLUME_TYPE], name, description: 'd', ...source });
      const vols = (await call('GET', '/volumes/detail')).json.volumes.filter((v: { group_id?: string }) => v.group_id === id);
      expect(vols.map((v: { status: string }) => v.status)).toEqual(['available', 'available']);
      return vols as Array<{ snapshot_id: string | null; source_volid: string | null; size: number; volume_type: string }>;
    };
    const fromSnapshot = await made({ group_snapshot_id: gsId }, 'from-gs');
    expect(fromSnapshot.map((v) => v.snapshot_id).sort()).toEqual([...memberSnapshots].sort());
    const fromGroup = await made({ source_group_id: g }, 'from-g');
    expect(fromGroup.map((v) => v.source_volid).sort()).toEqual([...sources].sort());
    expect(fromGroup.every((v) => v.size === 1)).toBe(true);

    // A source group that is not available is refused before anything is made.
    expect((await call('POST', `/groups/${g}/action`, { reset_status: { status: 'error' } })).status).toBe(202);
    const before = (await call('GET', '/groups')).json.groups.length;
    expectFault(await call('POST', '/groups/action', { 'create-from-src': { source_group_id: g } }), 400, 'badRequest', /Source group .* status must be available/);
    expect((await call('GET', '/groups')).json.groups.length).toBe(before);
  });

  it('refuses bad input with 4xx faults: unknown group type, empty volume_types, missing group, bad status, wrong group for a volume', async () => {
    expectFault(await call('POST', '/groups', { group: { group_type: MISSING, volume_types: [VOLUME_TYPE] } }), 404, 'itemNotFound', `Group type ${MISSING} could not be found.`);
    expectClientFault(await call('POST', '/groups', { group: { group_type: MISSING, volume_types: [] } }));
    expectClientFault(await call('POST', '/groups', { group: { volume_types: [VOLUME_TYPE] } }));
    expectClientFault(await call('POST', '/groups', { group: { group_type: await groupType(), volume_types: ['not-a-type'] } }));
    expectFault(await call('POST', '/groups', { group: { group_type: await groupType(), volume_types: [MISSING] } }), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);
    expectFault(await call('POST', '/group_snapshots', { group_snapshot: { group_id: MISSING } }), 404, 'itemNotFound', `Group ${MISSING} could not be found.`);
    expectClientFault(await call('POST', '/group_snapshots', { group_snapshot: {} }));
    const g = await group();
    expectClientFault(await call('POST', `/groups/${g}/action`, { reset_status: { status: 'deleted' } }));
    expectClientFault(await call('POST', `/groups/${g}/action`, { bogus: {} }));
    // A type that exists but is not one of the group's: Cinder's InvalidInput; one that does not exist: 404.
    const other = (await call('POST', '/types', { volume_type: { name: `not-in-group-${Math.random()}` } })).json.volume_type.id as string;
    expectFault(await call('POST', '/volumes', { volume: { size: 1, group_id: g, volume_type: other } }), 400, 'badRequest', /not compatible with the group/);
    expectFault(await call('POST', '/volumes', { volume: { size: 1, group_id: g, volume_type: MISSING } }), 404, 'itemNotFound', /could not be found/);
    expectFault(await call('POST', '/volumes', { volume: { size: 1, group_id: MISSING } }), 404, 'itemNotFound');
    expectFault(await call('POST', '/groups/action', { 'create-from-src': { source_group_id: g, group_snapshot_id: MISSING } }), 400, 'badRequest', 'Cannot specify both group_snapshot_id and source_group_id.');
    expectFault(await call('POST', '/groups/action', { 'create-from-src': { name: 'x' } }), 400, 'badRequest', /Either 'group_snapshot_id' or 'source_group_id' must be provided to create group x/);
    expectFault(await call('POST', '/groups/action', { 'create-from-src': { source_group_id: MISSING } }), 404, 'itemNotFound', `Group ${MISSING} could not be found.`);
    expectFault(await call('POST', '/groups/action', { 'create-from-src': { group_snapshot_id: MISSING } }), 404, 'itemNotFound', `GroupSnapshot ${MISSING} could not be found.`);
    expectClientFault(await call('POST', '/groups/action', { 'create-from-src': { source_group_id: 'nope' } }));
    expectClientFault(await call('POST', '/groups/action', { 'create-from-src': { source_group_id: g } }, V('3.13')));
    expectFault(await call('GET', `/groups/${MISSING}`), 404, 'itemNotFound');
  });
});
