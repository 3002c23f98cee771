// The policy table end to end: the real app (createApp) with Keystone auth against the real
// Keystone of .ci/keystone.sh (started when not answering), over a real database. Tokens are
// Keystone's; who may do what is checked through the real endpoints.
//
//   admin (admin on admin) | svc (service on service) | member1 (member on demo)
//   reader1 (reader on demo) | othermember (member on other)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVolumeJobs } from '../support/harness.js';
import { createApp } from '../../src/api/app.js';
import { authMiddleware } from '../../src/http/auth/index.js';
import { loadDefaultPolicy, parsePolicy } from '../../src/http/policy/index.js';
import { providers } from '../support/databases.js';
import { ensureKeystone, issueToken, KEYSTONE_URL, SERVICE_CREDENTIALS, type IssuedToken, type KeystoneUser } from '../support/keystone.js';
import { apiFixture, expectFault, INSTANCE, send, type ApiFixture, type CallOptions } from './helpers.js';

// Cinder shows them to the snapshot's project readers too, on show and the detail list only.
const EXTENDED_FIELDS = ['os-extended-snapshot-attributes:progress', 'os-extended-snapshot-attributes:project_id'];
const keystone = { keystoneUrl: KEYSTONE_URL, service: SERVICE_CREDENTIALS };
const tokens = {} as Record<KeystoneUser, IssuedToken>;

beforeAll(async () => {
  await ensureKeystone();
  for (const user of ['admin', 'svc', 'member1', 'reader1', 'othermember'] as const) tokens[user] = await issueToken(user);
}, 15 * 60_000);

describe.each(providers)('Keystone policy through the endpoints on %s', (provider) => {
  let f: ApiFixture;
  /** Calls as `user`, under the user's own project unless the path names one. */
  const as = (user: KeystoneUser, method: string, rest: string, o: CallOptions = {}) =>
    f.call(method, `/v3/${tokens[user].projectId}${rest}`, { ...o, token: tokens[user].token });
  let volume = '';
  let snapshot = '';
  let otherSnapshot = '';

  beforeAll(async () => {
    f = await apiFixture(provider, { auth: { strategy: 'keystone', keystone } });
    // member1 builds everything in demo through the API: volume, legacy attach, forced snapshot.
    volume = (await as('member1', 'POST', '/volumes', { body: { volume: { size: 1, name: 'demo-vol' } } })).json.volume.id;
    await runVolumeJobs(f.h, volume);
    expect((await as('member1', 'POST', `/volumes/${volume}/action`, { body: { 'os-reserve': null } })).status).toBe(202);
    expect((await as('member1', 'POST', `/volumes/${volume}/action`, { body: { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } } })).status).toBe(202);
    const created = await as('member1', 'POST', '/snapshots', { body: { snapshot: { volume_id: volume, force: true, name: 'demo-snap' } } });
    expect(created.status).toBe(202);
    snapshot = created.json.snapshot.id;
    // The create answer has no extended attributes (Cinder's extension decorates show and detail only).
    for (const field of EXTENDED_FIELDS) expect(created.json.snapshot).not.toHaveProperty(field);
    await f.h.worker.drain();
    expect(f.h.compute.requests.map((r) => r.id)).toEqual([snapshot]);
    const otherVolume = (await as('othermember', 'POST', '/volumes', { body: { volume: { size: 1 } } })).json.volume.id;
    await runVolumeJobs(f.h, otherVolume);
    otherSnapshot = (await as('othermember', 'POST', '/snapshots', { body: { snapshot: { volume_id: otherVolume } } })).json.snapshot.id;
  });
  afterAll(async () => {
    await f?.close();
  });

  const status = async () => (await f.h.manager.getSnapshot(snapshot)).status;
  const historyLength = async () => (await f.h.manager.transitions(snapshot)).length;

  it('a member sees its project\'s snapshot (without admin fields); othermember gets 404 for it everywhere', async () => {
    for (const user of ['member1', 'reader1'] as const) {
      const r = await as(user, 'GET', `/snapshots/${snapshot}`);
      expect([user, r.status, r.json.snapshot.name]).toEqual([user, 200, 'demo-snap']);
      for (const field of EXTENDED_FIELDS) expect(r.json.snapshot).toHaveProperty(field);
      const list = (await as(user, 'GET', '/snapshots')).json.snapshots;
      expect(list.map((s: { id: string }) => s.id)).toEqual([snapshot]);
      for (const field of EXTENDED_FIELDS) expect(list[0]).not.toHaveProperty(field);
      const detail = (await as(user, 'GET', '/snapshots/detail')).json.snapshots;
      expect(detail[0]).toMatchObject({ 'os-extended-snapshot-attributes:project_id': tokens.member1.projectId });
    }
    const notFound = `Snapshot ${snapshot} could not be found.`;
    expectFault(await as('othermember', 'GET', `/snapshots/${snapshot}`), 404, 'itemNotFound', notFound);
    expectFault(await as('othermember', 'PUT', `/snapshots/${snapshot}`, { body: { snapshot: { name: 'mine' } } }), 404, 'itemNotFound', notFound);
    expectFault(await as('othermember', 'DELETE', `/snapshots/${snapshot}`), 404, 'itemNotFound', notFound);
    expectFault(await as('othermember', 'GET', `/snapshots/${snapshot}/metadata`), 404, 'itemNotFound', notFound);
    expectFault(await as('othermember', 'POST', `/snapshots/${snapshot}/metadata`, { body: { metadata: { a: 'b' } } }), 404, 'itemNotFound', notFound);
    expectFault(await as('othermember', 'GET', `/volumes/${volume}`), 404, 'itemNotFound', `Volume ${volume} could not be found.`);
    expectFault(await as('othermember', 'POST', `/volumes/${volume}/action`, { body: { 'os-begin_detaching': null } }), 404, 'itemNotFound');
    // Snapshotting another project's volume: the same 404 as a volume that does not exist.
    expectFault(await as('othermember', 'POST', '/snapshots', { body: { snapshot: { volume_id: volume, force: true } } }), 404, 'itemNotFound', `Volume ${volume} could not be found.`);
    expect((await as('othermember', 'GET', '/snapshots/detail')).json.snapshots.map((s: { id: string }) => s.id)).toEqual([otherSnapshot]);
    // Naming demo's project in the URL with other's token is a malformed URL, not a way in.
    const wrongProject = await f.call('GET', `/v3/${tokens.member1.projectId}/snapshots/${snapshot}`, { token: tokens.othermember.token });
    expectFault(wrongProject, 400, 'badRequest', 'Malformed request url');
    expect((await f.h.manager.getSnapshot(snapshot)).name).toBe('demo-snap');
  });

  it('os-update_snapshot_status needs admin or service: member and reader get 403', async () => {
    const progress = { 'os-update_snapshot_status': { status: 'creating', progress: '10%' } };
    const before = await historyLength();
    for (const user of ['member1', 'reader1', 'othermember'] as const) {
      const r = await as(user, 'POST', `/snapshots/${snapshot}/action`, { body: progress });
      expectFault(r, 403, 'forbidden', "Policy doesn't allow snapshot:update_snapshot_status to be performed.");
    }
    expect(await historyLength()).toBe(before);
    // The compute service calls under its own project, for demo's snapshot.
    const svc = await as('svc', 'POST', `/snapshots/${snapshot}/action`, { body: progress });
    expect([svc.status, svc.text]).toEqual([202, '']);
    const admin = await as('admin', 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-update_snapshot_status': { status: 'creating', progress: '20%' } } });
    expect(admin.status).toBe(202);
    expect((await f.h.manager.getSnapshot(snapshot)).progress).toBe('20%');
    expect(await historyLength()).toBe(before + 2);
    // A role grant reaches across projects, but not to snapshots that do not exist.
    expectFault(await as('svc', 'POST', '/snapshots/0f0f0f0f-0000-4000-8000-000000000000/action', { body: progress }), 404, 'itemNotFound');
  });

  it('reset status, force delete, reconcile, admin_metadata, transitions, the orphan listing and all_tenants need admin', async () => {
    const denied = (rule: string) => `Policy doesn't allow ${rule} to be performed.`;
    for (const user of ['member1', 'reader1', 'svc', 'othermember'] as const) {
      expectFault(await as(user, 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-reset_status': { status: 'error' } } }), 403, 'forbidden', denied('snapshot:reset_status'));
      expectFault(await as(user, 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-force_delete': null } }), 403, 'forbidden', denied('snapshot:force_delete'));
      expectFault(await as(user, 'GET', `/snapshots/${snapshot}/admin_metadata`), 403, 'forbidden', denied('snapshot:admin_metadata'));
      expectFault(await as(user, 'GET', `/snapshots/${snapshot}/transitions`), 403, 'forbidden', denied('snapshot:transitions'));
      expectFault(await as(user, 'GET', `/volumes/${volume}/transitions`), 403, 'forbidden', denied('volume:transitions'));
      expectFault(await as(user, 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-reconcile': null } }), 403, 'forbidden', denied('snapshot:reconcile'));
      expectFault(await as(user, 'GET', '/os-orphan-files'), 403, 'forbidden', denied('orphan_files:get_all'));
    }
    expect(await status()).toBe('creating');

    // all_tenants from a non-admin is ignored (as Cinder does), not an error.
    const memberAll = await as('member1', 'GET', '/snapshots?all_tenants=1');
    expect(memberAll.json.snapshots.map((s: { id: string }) => s.id)).toEqual([snapshot]);
    const adminOwn = await as('admin', 'GET', '/snapshots');
    expect(adminOwn.json.snapshots).toEqual([]);
    const adminAll = await as('admin', 'GET', '/snapshots/detail?all_tenants=1');
    const owners = Object.fromEntries(adminAll.json.snapshots.map((s: Record<string, string>) => [s.id, s['os-extended-snapshot-attributes:project_id']]));
    expect(owners).toEqual({ [snapshot]: tokens.member1.projectId, [otherSnapshot]: tokens.othermember.projectId });

    const shown = await as('admin', 'GET', `/snapshots/${snapshot}`);
    expect(shown.json.snapshot).toMatchObject({ 'os-extended-snapshot-attributes:progress': expect.stringMatching(/%$/), 'os-extended-snapshot-attributes:project_id': tokens.member1.projectId });
    const meta = await as('admin', 'GET', `/snapshots/${snapshot}/admin_metadata`);
    expect([meta.status, Object.keys(meta.json.admin_metadata)]).toEqual([200, ['create_info']]);
    const history = await as('admin', 'GET', `/snapshots/${snapshot}/transitions`);
    expect(history.json.transitions[0]).toMatchObject({ version: 1, event: 'snapshot.create', source: 'api' });
    const volumeHistory = await as('admin', 'GET', `/volumes/${volume}/transitions`);
    expect(volumeHistory.json.transitions.map((t: { event: string; source: string }) => `${t.event}/${t.source}`)).toEqual([
      'volume.create/api',
      'storage.done/driver',
      'os-reserve/api',
      'os-attach/api',
    ]);

    expect((await as('admin', 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-reset_status': { status: 'error' } } })).status).toBe(202);
    expect(await status()).toBe('error');
    expect((await as('admin', 'GET', '/os-orphan-files')).json).toEqual({ orphan_files: [], scanned_at: expect.any(String) });
    // An admin reaches across projects, as for the other admin actions.
    expect((await as('admin', 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-reconcile': {} } })).status).toBe(202);
    expect(await status()).toBe('creating');
    expect((await as('admin', 'POST', `/snapshots/${snapshot}/action`, { body: { 'os-reset_status': { status: 'error' } } })).status).toBe(202);
    expect((await as('admin', 'POST', `/snapshots/${otherSnapshot}/action`, { body: { 'os-force_delete': {} } })).status).toBe(202);
    expect((await f.h.manager.getSnapshot(otherSnapshot)).status).toBe('deleting');
  });

  it('a policy that grants an admin action to "project" confines it to the caller\'s project', async () => {
    const policy = parsePolicy({ 'snapshot:reset_status': 'project', 'snapshot:transitions': ['project'] }, 'test overrides', loadDefaultPolicy());
    const app = createApp({ manager: f.h.manager, authenticate: authMiddleware({ strategy: 'keystone', keystone }), policy });
    const call = (user: KeystoneUser, method: string, rest: string, body?: unknown) =>
      send(app, method, `/v3/${tokens[user].projectId}${rest}`, { body, token: tokens[user].token });
    const before = await historyLength();
    expectFault(await call('othermember', 'POST', `/snapshots/${snapshot}/action`, { 'os-reset_status': { status: 'available' } }), 404, 'itemNotFound');
    expectFault(await call('othermember', 'GET', `/snapshots/${snapshot}/transitions`), 404, 'itemNotFound');
    expect(await historyLength()).toBe(before);
    expect((await call('member1', 'GET', `/snapshots/${snapshot}/transitions`)).json.transitions).toHaveLength(before);
    expect((await call('member1', 'POST', `/snapshots/${snapshot}/action`, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
    expect(await historyLength()).toBe(before + 1);
  });

  it('an oslo rule with an owner check on the row: only the snapshot\'s creator may rename it', async () => {
    const policy = parsePolicy(
      { creator: 'user_id:%(user_id)s', 'snapshot:update': 'rule:admin_api or rule:creator' },
      'test overrides',
      loadDefaultPolicy(),
    );
    const app = createApp({ manager: f.h.manager, authenticate: authMiddleware({ strategy: 'keystone', keystone }), policy });
    const rename = (user: KeystoneUser, name: string) =>
      send(app, 'PUT', `/v3/${tokens[user].projectId}/snapshots/${snapshot}`, { body: { snapshot: { name } }, token: tokens[user].token });
    // reader1 is of the same project, and passes the check made before the row is read (with the
    // caller as the target), but is not the row's user.
    expectFault(await rename('reader1', 'not-mine'), 403, 'forbidden', "Policy doesn't allow snapshot:update to be performed.");
    expectFault(await rename('othermember', 'not-mine'), 404, 'itemNotFound');
    const mine = await rename('member1', 'renamed-by-creator');
    expect([mine.status, mine.json.snapshot.name]).toEqual([200, 'renamed-by-creator']);
    expect((await rename('admin', 'demo-snap')).status).toBe(200);
  });

  it('a missing or invalid token is 401 with WWW-Authenticate', async () => {
    for (const token of [null, 'not-a-token', `${tokens.member1.token}x`]) {
      const r = await f.call('GET', `/v3/${tokens.member1.projectId}/snapshots/${snapshot}`, { token });
      expectFault(r, 401, 'unauthorized', 'The request you have made requires authentication.');
      expect(r.headers.get('WWW-Authenticate')).toBe(`Keystone uri="${KEYSTONE_URL}"`);
    }
    const callback = await f.call('POST', `/v3/${tokens.svc.projectId}/snapshots/${snapshot}/action`, {
      token: null,
      body: { 'os-update_snapshot_status': { status: 'creating', progress: '90%' } },
    });
    expectFault(callback, 401, 'unauthorized');
  });
});
