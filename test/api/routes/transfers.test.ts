// Volume transfers over HTTP (src/api/routes/transfers.ts), and the volume requests that carry
// data (create from a snapshot or volume, os-extend, cascade delete): real createApp over SQLite
// and PostgreSQL, noauth, default policy; Cinder's views per microversion, faults in the
// OpenStack format.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../../support/databases.js';
import { runVolumeJobs } from '../../support/harness.js';
import { apiFixture, createVolume, expectFault, MISSING, P, type ApiFixture } from '../helpers.js';

const v = (version: string) => ({ 'OpenStack-API-Version': `volume ${version}` });

describe.each(providers)('REST API on %s: transfers and volume data', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  it('offers a volume, shows and lists the offer as each version has it, and another project accepts it', async () => {
    const vol = await createVolume(f);
    const created = await f.call('POST', `${P}/os-volume-transfer`, { body: { transfer: { volume_id: vol.id, name: 'gift' } } });
    expect(created.status).toBe(202);
    const t = created.json.transfer;
    expect(Object.keys(t).sort()).toEqual(['auth_key', 'created_at', 'id', 'links', 'name', 'volume_id']);
    expect(t).toMatchObject({ name: 'gift', volume_id: vol.id });
    expect(t.links[0]).toEqual({ rel: 'self', href: `http://localhost${P}/os-volume-transfer/${t.id}` });
    expect((await f.call('GET', `${P}/volumes/${vol.id}`)).json.volume.status).toBe('awaiting-transfer');

    const at357 = await f.call('GET', `${P}/volume-transfers/${t.id}`, { headers: v('3.57') });
    expect(at357.json.transfer).toMatchObject({ id: t.id, no_snapshots: false, accepted: false, source_project_id: 'proj', destination_project_id: null });
    const at30 = await f.call('GET', `${P}/os-volume-transfer/${t.id}`);
    expect(Object.keys(at30.json.transfer).sort()).toEqual(['created_at', 'id', 'links', 'name', 'volume_id']);
    expectFault(await f.call('GET', `${P}/volume-transfers/${t.id}`), 404, 'itemNotFound');

    expect((await f.call('GET', `${P}/os-volume-transfer`)).json.transfers).toEqual([{ id: t.id, volume_id: vol.id, name: 'gift', links: t.links }]);
    expect((await f.call('GET', `${P}/os-volume-transfer/detail`)).json.transfers).toHaveLength(1);

    const wrong = await f.call('POST', `/v3/other/os-volume-transfer/${t.id}/accept`, { body: { accept: { auth_key: 'nope' } }, token: 'bob:other' });
    expectFault(wrong, 400, 'badRequest', `Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`);
    const accepted = await f.call('POST', `/v3/other/os-volume-transfer/${t.id}/accept`, { body: { accept: { auth_key: t.auth_key } }, token: 'bob:other' });
    expect(accepted.status).toBe(202);
    expect(Object.keys(accepted.json.transfer).sort()).toEqual(['id', 'links', 'name', 'volume_id']);
    const moved = await f.call('GET', `/v3/other/volumes/${vol.id}`, { token: 'bob:other' });
    expect(moved.json.volume).toMatchObject({ status: 'available', user_id: 'bob', 'os-vol-tenant-attr:tenant_id': 'other' });
    expectFault(await f.call('GET', `${P}/os-volume-transfer/${t.id}`), 404, 'itemNotFound', `Transfer ${t.id} could not be found.`);
  });

  it('takes no_snapshots from 3.55 on the newer URL, withdraws an offer, and refuses bad requests', async () => {
    const vol = await createVolume(f);
    const created = await f.call('POST', `${P}/volume-transfers`, { body: { transfer: { volume_id: vol.id, no_snapshots: true } }, headers: v('3.55') });
    expect(created.status).toBe(202);
    expect(created.json.transfer).toMatchObject({ no_snapshots: true, name: null });
    expect(created.json.transfer).not.toHaveProperty('accepted');
    const again = await f.call('POST', `${P}/os-volume-transfer`, { body: { transfer: { volume_id: vol.id } } });
    expectFault(again, 400, 'badRequest', 'Invalid volume: status must be available');
    expect((await f.call('DELETE', `${P}/volume-transfers/${created.json.transfer.id}`, { headers: v('3.55') })).status).toBe(202);
    expect((await f.call('GET', `${P}/volumes/${vol.id}`)).json.volume.status).toBe('available');

    expectFault(await f.call('POST', `${P}/os-volume-transfer`, { body: { transfer: { volume_id: 'x' } } }), 400, 'badRequest');
    expectFault(await f.call('POST', `${P}/os-volume-transfer`, { body: { transfer: { volume_id: MISSING } } }), 404, 'itemNotFound');
    expectFault(await f.call('POST', `${P}/os-volume-transfer/${MISSING}/accept`, { body: { accept: { auth_key: 'k' } } }), 404, 'itemNotFound');
    expectFault(await f.call('DELETE', `${P}/os-volume-transfer/${MISSING}`), 404, 'itemNotFound');
  });

  it('creates a volume from a snapshot without a size, extends it, and deletes a volume with its snapshots (cascade)', async () => {
    const src = await createVolume(f, { size: 2, name: 'src' });
    const snap = (await f.call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: src.id } } })).json.snapshot;
    await f.h.worker.drain();
    const copy = await f.call('POST', `${P}/volumes`, { body: { volume: { snapshot_id: snap.id } } });
    expect(copy.status).toBe(202);
    expect(copy.json.volume).toMatchObject({ size: 2, snapshot_id: snap.id, source_volid: null, status: 'creating' });
    await runVolumeJobs(f.h, copy.json.volume.id);
    expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { snapshot_id: snap.id, size: 1 } } }), 400, 'badRequest', /cannot be smaller than the snapshot size 2GB/);
    expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { source_volid: MISSING, size: 1 } } }), 404, 'itemNotFound', `Volume ${MISSING} could not be found.`);

    const id = copy.json.volume.id as string;
    expect((await f.call('POST', `${P}/volumes/${id}/action`, { body: { 'os-extend': { new_size: 3 } } })).status).toBe(202);
    await runVolumeJobs(f.h, id);
    expect((await f.call('GET', `${P}/volumes/${id}`)).json.volume).toMatchObject({ size: 3, status: 'available' });
    expectFault(await f.call('POST', `${P}/volumes/${MISSING}/action`, { body: { 'os-extend': { new_size: 3 } } }), 404, 'itemNotFound');
    expectFault(await f.call('POST', `${P}/volumes/${id}/action`, { body: { 'os-extend': { new_size: 'x' } } }), 400, 'badRequest');

    expectFault(await f.call('DELETE', `${P}/volumes/${src.id}?cascade=maybe`), 400, 'badRequest');
    expectFault(await f.call('DELETE', `${P}/volumes/${src.id}`), 400, 'badRequest', `Invalid volume: Volume ${src.id} still has 1 dependent snapshots.`);
    expect((await f.call('DELETE', `${P}/volumes/${src.id}?cascade=true`)).status).toBe(202);
    await f.h.worker.drain();
    f.h.clock.advance(5);
    await f.h.worker.drain();
    expectFault(await f.call('GET', `${P}/volumes/${src.id}`), 404, 'itemNotFound');
    expectFault(await f.call('GET', `${P}/snapshots/${snap.id}`), 404, 'itemNotFound');
  });
});
