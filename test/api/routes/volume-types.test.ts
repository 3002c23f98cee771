// Volume types over HTTP (src/api/routes/volume-types.ts): CRUD with Cinder's views and
// refusals, extra specs, access to private types (a member of another project through the same
// createApp), encryption specs, volumes created with a type and the volume view's type fields,
// and os-retype without migration. Real createApp over SQLite and PostgreSQL, default policy.
import type { MiddlewareHandler } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.js';
import { DEFAULT_VOLUME_TYPE_ID } from '../../../src/engine/store/index.js';
import { makeAuthContext } from '../../../src/http/auth/types.js';
import { loadDefaultPolicy } from '../../../src/http/policy/index.js';
import { providers } from '../../support/databases.js';
import { runVolumeJobs } from '../../support/harness.js';
import { apiFixture, createVolume, expectFault, INSTANCE, MISSING, P, send, type ApiFixture, type Reply } from '../helpers.js';

/** "user:project" tokens for a project member (not an admin), as Keystone would report one. */
const memberAuth: MiddlewareHandler = async (c, next) => {
  const [userId, projectId] = (c.req.header('X-Auth-Token') ?? ':').split(':');
  c.set('auth', makeAuthContext({ userId: userId!, projectId: projectId!, roles: ['member'] }));
  await next();
};

describe.each(providers)('REST API on %s: volume types', (provider) => {
  let f: ApiFixture;
  let member: (method: string, path: string, body?: unknown) => Promise<Reply>;
  beforeEach(async () => {
    f = await apiFixture(provider);
    const app = createApp({ manager: f.h.manager, authenticate: memberAuth, policy: loadDefaultPolicy() });
    member = (method, path, body) => send(app, method, path, body === undefined ? {} : { body }, 'bob:other');
  });
  afterEach(async () => {
    await f?.close();
  });

  const createType = async (volumeType: Record<string, unknown>) => {
    const r = await f.call('POST', `${P}/types`, { body: { volume_type: volumeType } });
    expect(r.status, r.text).toBe(200);
    return r.json.volume_type as { id: string; name: string; [k: string]: unknown };
  };
  const action = (id: string, body: unknown) => f.call('POST', `${P}/volumes/${id}/action`, { body });

  describe('CRUD', () => {
    it('creates, shows, lists, updates and deletes a type, with Cinder views', async () => {
      const t = await createType({ name: 'gold', description: 'fast', extra_specs: { 'k:1': 'v' }, 'os-volume-type-access:is_public': 'true' });
      // The create answer: Cinder's older view (extra specs, no qos_specs_id) with the access flag.
      expect(t).toEqual({ id: t.id, name: 'gold', description: 'fast', is_public: true, extra_specs: { 'k:1': 'v' }, 'os-volume-type-access:is_public': true });

      const shown = await f.call('GET', `${P}/types/${t.id}`);
      expect(shown.json).toEqual({ volume_type: { ...t, qos_specs_id: null } });
      const list = await f.call('GET', `${P}/types`);
      expect(list.json.volume_types.map((x: { name: string }) => x.name)).toEqual(['__DEFAULT__', 'gold']);

      const updated = await f.call('PUT', `${P}/types/${t.id}`, { body: { volume_type: { name: 'platinum', is_public: false } } });
      expect(updated.status, updated.text).toBe(200);
      expect(updated.json.volume_type).toEqual({ id: t.id, name: 'platinum', description: 'fast', is_public: false, extra_specs: { 'k:1': 'v' } });
      // Private types are listed for admins with is_public=false or none only.
      expect((await f.call('GET', `${P}/types`)).json.volume_types.map((x: { name: string }) => x.name)).toEqual(['__DEFAULT__']);
      expect((await f.call('GET', `${P}/types?is_public=false`)).json.volume_types.map((x: { name: string }) => x.name)).toEqual(['platinum']);
      expect((await f.call('GET', `${P}/types?is_public=None`)).json.volume_types).toHaveLength(2);
      expectFault(await f.call('GET', `${P}/types?is_public=maybe`), 400, 'badRequest', 'Invalid is_public filter [maybe]');

      expect((await f.call('DELETE', `${P}/types/${t.id}`)).status).toBe(202);
      expectFault(await f.call('GET', `${P}/types/${t.id}`), 404, 'itemNotFound', `Volume type ${t.id} could not be found.`);
      expectFault(await f.call('DELETE', `${P}/types/${t.id}`), 404, 'itemNotFound');
      // The name is free again once its type is deleted.
      await createType({ name: 'platinum' });
    });

    it("refuses what Cinder refuses: a taken name, an empty one, an empty update, the default type's delete", async () => {
      const t = await createType({ name: 'gold' });
      expectFault(await f.call('POST', `${P}/types`, { body: { volume_type: { name: 'gold' } } }), 409, 'conflictingRequest', 'Volume Type gold already exists.');
      expectFault(await f.call('PUT', `${P}/types/${t.id}`, { body: { volume_type: { name: '__DEFAULT__' } } }), 409, 'conflictingRequest');
      expectFault(await f.call('POST', `${P}/types`, { body: { volume_type: { name: '' } } }), 400, 'badRequest');
      expectFault(await f.call('POST', `${P}/types`, { body: { volume_type: { name: 'x', bogus: 1 } } }), 400, 'badRequest');
      expectFault(await f.call('PUT', `${P}/types/${t.id}`, { body: { volume_type: { name: '   ' } } }), 400, 'badRequest', 'Volume type name can not be empty.');
      expectFault(await f.call('PUT', `${P}/types/${t.id}`, { body: { volume_type: {} } }), 400, 'badRequest', 'Specify volume type name, description, is_public or a combination thereof.');
      expectFault(await f.call('PUT', `${P}/types/${MISSING}`, { body: { volume_type: { name: 'n' } } }), 404, 'itemNotFound');

      const def = await f.call('GET', `${P}/types/default`);
      expect(def.json.volume_type).toMatchObject({ id: DEFAULT_VOLUME_TYPE_ID, name: '__DEFAULT__', description: 'Default Volume Type', is_public: true });
      expectFault(await f.call('DELETE', `${P}/types/${DEFAULT_VOLUME_TYPE_ID}`), 400, 'badRequest', `The volume type ${DEFAULT_VOLUME_TYPE_ID} is a default volume type and cannot be deleted.`);
      expectFault(await f.call('GET', `${P}/types/not-a-uuid`), 404, 'itemNotFound', 'Volume type not-a-uuid could not be found.');
    });

    it('refuses to delete a type while a volume has it, and allows it once the volume is gone', async () => {
      const t = await createType({ name: 'gold' });
      const v = await createVolume(f, { size: 1, volume_type: 'gold' });
      expectFault(await f.call('DELETE', `${P}/types/${t.id}`), 400, 'badRequest', 'Target volume type is still in use.');
      await f.call('DELETE', `${P}/volumes/${v.id}`);
      await runVolumeJobs(f.h, v.id);
      expect((await f.call('DELETE', `${P}/types/${t.id}`)).status).toBe(202);
    });
  });

  describe('extra specs', () => {
    it('sets, lists, shows, updates and deletes keys; refuses a body that is not the URL key and changes while in use', async () => {
      const t = await createType({ name: 'gold' });
      const specs = `${P}/types/${t.id}/extra_specs`;
      const set = await f.call('POST', specs, { body: { extra_specs: { a: '1', b: '2' } } });
      expect([set.status, set.json]).toEqual([200, { extra_specs: { a: '1', b: '2' } }]);
      expect((await f.call('GET', specs)).json).toEqual({ extra_specs: { a: '1', b: '2' } });
      expect((await f.call('GET', `${specs}/a`)).json).toEqual({ a: '1' });
      const put = await f.call('PUT', `${specs}/a`, { body: { a: '3' } });
      expect([put.status, put.json]).toEqual([200, { a: '3' }]);
      expectFault(await f.call('PUT', `${specs}/a`, { body: { b: '3' } }), 400, 'badRequest', 'Request body and URI mismatch');
      expectFault(await f.call('PUT', `${specs}/a`, { body: { a: '3', b: '4' } }), 400, 'badRequest');
      expectFault(await f.call('PUT', `${specs}/a`, { body: null }), 400, 'badRequest');
      expectFault(await f.call('POST', specs, { body: { extra_specs: ['a'] } }), 400, 'badRequest');
      expectFault(await f.call('POST', specs, { body: { extra_specs: { 'no spaces': 'x' } } }), 400, 'badRequest');
      expect((await f.call('DELETE', `${specs}/a`)).status).toBe(202);
      expectFault(await f.call('GET', `${specs}/a`), 404, 'itemNotFound', `Volume Type ${t.id} has no extra specs with key a.`);
      expectFault(await f.call('DELETE', `${specs}/a`), 404, 'itemNotFound');
      // A removed key can be set again.
      await f.call('POST', specs, { body: { extra_specs: { a: '5' } } });
      expect((await f.call('GET', specs)).json.extra_specs).toEqual({ a: '5', b: '2' });
      expectFault(await f.call('GET', `${P}/types/${MISSING}/extra_specs`), 404, 'itemNotFound');
      expectFault(await f.call('POST', `${P}/types/${MISSING}/extra_specs`, { body: { extra_specs: { a: '1' } } }), 404, 'itemNotFound');

      await createVolume(f, { size: 1, volume_type: t.id });
      expectFault(await f.call('POST', specs, { body: { extra_specs: { c: '1' } } }), 400, 'badRequest', 'Volume Type is currently in use.');
      expectFault(await f.call('DELETE', `${specs}/b`), 400, 'badRequest', 'Volume Type is currently in use.');
    });

    it('shows members only the user-visible extra specs, and no QoS id', async () => {
      const t = await createType({ name: 'gold', extra_specs: { multiattach: '<is> True', secret: 'x' } });
      const shown = await member('GET', `/v3/other/types/${t.id}`);
      expect(shown.json.volume_type).toEqual({ id: t.id, name: 'gold', description: null, is_public: true, extra_specs: { multiattach: '<is> True' }, 'os-volume-type-access:is_public': true });
      expect((await member('GET', `/v3/other/types/${t.id}/extra_specs`)).json).toEqual({ extra_specs: { multiattach: '<is> True' } });
      expectFault(await member('GET', `/v3/other/types/${t.id}/extra_specs/secret`), 404, 'itemNotFound');
      expectFault(await member('POST', `/v3/other/types/${t.id}/extra_specs`, { extra_specs: { a: '1' } }), 403, 'forbidden');
      expectFault(await member('POST', '/v3/other/types', { volume_type: { name: 'mine' } }), 403, 'forbidden');
    });
  });

  describe('access to private types', () => {
    it('hides a private type from other projects until it is shared with them', async () => {
      const t = await createType({ name: 'private', 'os-volume-type-access:is_public': false });
      expect(t['os-volume-type-access:is_public']).toBe(false);
      const names = async () => (await member('GET', '/v3/other/types')).json.volume_types.map((x: { name: string }) => x.name);
      expect(await names()).toEqual(['__DEFAULT__']);
      expectFault(await member('GET', `/v3/other/types/${t.id}`), 404, 'itemNotFound');
      expectFault(await member('POST', '/v3/other/volumes', { volume: { size: 1, volume_type: t.id } }), 404, 'itemNotFound', `Volume type ${t.id} could not be found.`);
      expectFault(await member('POST', '/v3/other/volumes', { volume: { size: 1, volume_type: 'private' } }), 404, 'itemNotFound', 'Volume type with name private could not be found.');

      const add = await f.call('POST', `${P}/types/${t.id}/action`, { body: { addProjectAccess: { project: 'other' } } });
      expect([add.status, add.text]).toEqual([202, '']);
      expectFault(await f.call('POST', `${P}/types/${t.id}/action`, { body: { addProjectAccess: { project: 'other' } } }), 409, 'conflictingRequest', `Volume type access for ${t.id} / other combination already exists.`);
      await f.call('POST', `${P}/types/${t.id}/action`, { body: { addProjectAccess: { project: 'third' } } });
      expect((await f.call('GET', `${P}/types/${t.id}/os-volume-type-access`)).json).toEqual({
        volume_type_access: [
          { volume_type_id: t.id, project_id: 'other' },
          { volume_type_id: t.id, project_id: 'third' },
        ],
      });
      expect(await names()).toEqual(['__DEFAULT__', 'private']);
      const created = await member('POST', '/v3/other/volumes', { volume: { size: 1, volume_type: 'private' } });
      expect(created.status, created.text).toBe(202);
      expect(created.json.volume.volume_type).toBe('private');
      expectFault(await member('GET', `/v3/other/types/${t.id}/os-volume-type-access`), 403, 'forbidden');

      expect((await f.call('POST', `${P}/types/${t.id}/action`, { body: { removeProjectAccess: { project: 'third' } } })).status).toBe(202);
      expectFault(await f.call('POST', `${P}/types/${t.id}/action`, { body: { removeProjectAccess: { project: 'third' } } }), 404, 'itemNotFound', `Volume type access not found for ${t.id} / third combination.`);
      expectFault(await f.call('GET', `${P}/types/${DEFAULT_VOLUME_TYPE_ID}/os-volume-type-access`), 404, 'itemNotFound', 'Access list not available for public volume types.');
      expectFault(await f.call('POST', `${P}/types/${MISSING}/action`, { body: { addProjectAccess: { project: 'x' } } }), 404, 'itemNotFound');
    });
  });

  describe('encryption', () => {
    const spec = { provider: 'LuksEncryptor', key_size: 256, cipher: 'aes-xts-plain64', control_location: 'front-end' };

    it('creates, shows, updates and deletes the encryption spec of a type', async () => {
      const t = await createType({ name: 'secure' });
      const url = `${P}/types/${t.id}/encryption`;
      expect((await f.call('GET', url)).json).toEqual({});
      const created = await f.call('POST', url, { body: { encryption: { ...spec, key_size: '256' } } });
      expect(created.status, created.text).toBe(200);
      expect(created.json.encryption).toEqual({ ...spec, volume_type_id: t.id, encryption_id: expect.any(String) });
      expectFault(await f.call('POST', url, { body: { encryption: spec } }), 400, 'badRequest', `Volume type encryption for type ${t.id} already exists.`);
      const shown = (await f.call('GET', url)).json;
      expect(shown).toMatchObject({ ...spec, volume_type_id: t.id, encryption_id: created.json.encryption.encryption_id, deleted: false, deleted_at: null });
      expect((await f.call('GET', `${url}/cipher`)).json).toEqual({ cipher: 'aes-xts-plain64' });
      expectFault(await f.call('GET', `${url}/bogus`), 404, 'itemNotFound', `Volume type encryption for type ${t.id} does not exist.`);

      const update = { key_size: 128, provider: 'SomeProvider', control_location: 'back-end' };
      const put = await f.call('PUT', `${url}/provider`, { body: { encryption: update } });
      expect([put.status, put.json]).toEqual([200, { encryption: update }]);
      expect((await f.call('GET', url)).json).toMatchObject({ ...update, cipher: 'aes-xts-plain64' });

      expect((await f.call('DELETE', `${url}/provider`)).status).toBe(202);
      expect((await f.call('GET', url)).json).toEqual({});
      expectFault(await f.call('DELETE', `${url}/provider`), 404, 'itemNotFound');
      // A new spec after a delete gets a new id.
      const again = await f.call('POST', url, { body: { encryption: spec } });
      expect(again.json.encryption.encryption_id).not.toBe(created.json.encryption.encryption_id);
    });

    it('refuses a bad spec, a missing type, and changes while the type is in use', async () => {
      const t = await createType({ name: 'secure' });
      const url = `${P}/types/${t.id}/encryption`;
      expectFault(await f.call('POST', url, { body: { encryption: { ...spec, control_location: 'middle' } } }), 400, 'badRequest');
      expectFault(await f.call('POST', url, { body: { encryption: { provider: 'p' } } }), 400, 'badRequest');
      expectFault(await f.call('POST', `${P}/types/${MISSING}/encryption`, { body: { encryption: spec } }), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);
      await createVolume(f, { size: 1, volume_type: 'secure' });
      expectFault(await f.call('POST', url, { body: { encryption: spec } }), 400, 'badRequest', 'Cannot create encryption specs. Volume type in use.');
    });
  });

  describe('volumes of a type', () => {
    it('gives a volume the named type (by name or id), the default one otherwise; volume_type_id from 3.63', async () => {
      const t = await createType({ name: 'gold' });
      expect((await createVolume(f, { size: 1 })).volume_type).toBe('__DEFAULT__');
      const byName = await createVolume(f, { size: 1, volume_type: 'gold' });
      const byId = await createVolume(f, { size: 1, volume_type: t.id });
      expect([byName.volume_type, byId.volume_type]).toEqual(['gold', 'gold']);
      expect(byName).not.toHaveProperty('volume_type_id');
      const at363 = await f.call('GET', `${P}/volumes/${byId.id}`, { headers: { 'OpenStack-API-Version': 'volume 3.63' } });
      expect(at363.json.volume).toMatchObject({ volume_type: 'gold', volume_type_id: t.id });
      const at362 = await f.call('GET', `${P}/volumes/${byId.id}`, { headers: { 'OpenStack-API-Version': 'volume 3.62' } });
      expect(at362.json.volume).not.toHaveProperty('volume_type_id');
      const listed = await f.call('GET', `${P}/volumes/detail`, { headers: { 'OpenStack-API-Version': 'volume 3.63' } });
      expect(listed.json.volumes.map((v: { volume_type_id: string }) => v.volume_type_id).sort()).toEqual([DEFAULT_VOLUME_TYPE_ID, t.id, t.id].sort());
    });

    it('refuses an unknown type with 404, by name and by id, and writes no volume', async () => {
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, volume_type: 'nope' } } }), 404, 'itemNotFound', 'Volume type with name nope could not be found.');
      expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, volume_type: MISSING } } }), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);
      expect((await f.call('GET', `${P}/volumes`)).json.volumes).toEqual([]);
    });
  });

  describe('os-retype (without migration)', () => {
    it('changes the type of an available volume, in place, recorded in its history', async () => {
      await createType({ name: 'one' });
      const two = await createType({ name: 'two' });
      const v = await createVolume(f, { size: 1, volume_type: 'one' });
      const r = await action(v.id, { 'os-retype': { new_type: 'two', migration_policy: 'never' } });
      expect([r.status, r.text]).toEqual([202, '']);
      const shown = (await f.call('GET', `${P}/volumes/${v.id}`, { headers: { 'OpenStack-API-Version': 'volume 3.63' } })).json.volume;
      expect(shown).toMatchObject({ status: 'available', volume_type: 'two', volume_type_id: two.id });
      const history = (await f.call('GET', `${P}/volumes/${v.id}/transitions`)).json.transitions;
      expect(history.at(-1)).toMatchObject({ event: 'os-retype', from_phase: 'available', to_phase: 'available', rejected: false });
      // The same type again is refused, as Cinder refuses it.
      expectFault(await action(v.id, { 'os-retype': { new_type: two.id } }), 400, 'badRequest', /^Invalid volume: Retype needs volume to be in available or in-use state/);
    });

    it('retypes a volume in use, and refuses other statuses, unknown types and a change of encryption', async () => {
      await createType({ name: 'one' });
      await createType({ name: 'two' });
      const secure = await createType({ name: 'secure' });
      await f.call('POST', `${P}/types/${secure.id}/encryption`, { body: { encryption: { provider: 'luks', control_location: 'front-end' } } });
      const v = await createVolume(f, { size: 1, volume_type: 'one' });
      await action(v.id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } });
      expect((await action(v.id, { 'os-retype': { new_type: 'two' } })).status).toBe(202);
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume).toMatchObject({ status: 'in-use', volume_type: 'two' });

      expectFault(await action(v.id, { 'os-retype': { new_type: 'secure' } }), 400, 'badRequest', 'Invalid volume: Retype cannot change encryption requirements.');
      expectFault(await action(v.id, { 'os-retype': { new_type: 'nope' } }), 404, 'itemNotFound', 'Volume type with name nope could not be found.');
      expectFault(await action(v.id, { 'os-retype': { new_type: 'one', migration_policy: 'sometimes' } }), 400, 'badRequest');

      await action(v.id, { 'os-reset_status': { status: 'error' } });
      expectFault(await action(v.id, { 'os-retype': { new_type: 'one' } }), 400, 'badRequest', /^Invalid volume: Retype needs volume/);
      const history = (await f.call('GET', `${P}/volumes/${v.id}/transitions`)).json.transitions;
      expect(history.at(-1)).toMatchObject({ event: 'os-retype', rejected: true });
      expect((await f.call('GET', `${P}/volumes/${v.id}`)).json.volume.volume_type).toBe('two');
    });

    it('refuses a change of front-end QoS specs on a volume in use, and allows it on an available one', async () => {
      const one = await createType({ name: 'one' });
      await createType({ name: 'two' });
      const qos = (await f.call('POST', `${P}/qos-specs`, { body: { qos_specs: { name: 'fe', consumer: 'front-end', read_iops_sec: '100' } } })).json.qos_specs;
      await f.call('GET', `${P}/qos-specs/${qos.id}/associate?vol_type_id=${one.id}`);
      const v = await createVolume(f, { size: 1, volume_type: 'one' });
      await action(v.id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } });
      expectFault(await action(v.id, { 'os-retype': { new_type: 'two' } }), 400, 'badRequest', /front-end qos specs cannot change/);
      await action(v.id, { 'os-detach': null });
      expect((await action(v.id, { 'os-retype': { new_type: 'two' } })).status).toBe(202);
    });
  });
});
