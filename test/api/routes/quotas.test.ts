// os-quota-sets, os-quota-class-sets and /limits over HTTP (src/api/routes/quotas.ts), and the
// 413 a create over quota gets, with Cinder's bodies. Real createApp over SQLite and PostgreSQL,
// noauth (every caller admin), default policy. Who may call them: keystone-policy.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../../support/databases.js';
import { runVolumeJobs } from '../../support/harness.js';
import { apiFixture, expectFault, type ApiFixture } from '../helpers.js';

const P = '/v3/proj';
const OTHER = '7c1e2f0a9b8d4c3e8f7a6b5c4d3e2f10';
/** Cinder's resources, then per volume type: here the one every database has, `__DEFAULT__`. */
const RESOURCES = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups', 'volumes___DEFAULT__', 'snapshots___DEFAULT__', 'gigabytes___DEFAULT__'];
const DEFAULT_TYPE = { volumes___DEFAULT__: -1, snapshots___DEFAULT__: -1, gigabytes___DEFAULT__: -1 };

describe.each(providers)('REST API on %s: quotas and limits', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider, { limits: { maxVolumeSizeGiB: 1000 } });
  });
  afterEach(async () => {
    await f?.close();
  });

  const volume = async (size = 1) => {
    const r = await f.call('POST', `${P}/volumes`, { body: { volume: { size } } });
    expect(r.status, r.text).toBe(202);
    await runVolumeJobs(f.h, r.json.volume.id);
    return r.json.volume.id as string;
  };

  it('shows, updates and deletes a project quota set; the defaults stay', async () => {
    const defaults = { volumes: -1, per_volume_gigabytes: 1000, snapshots: -1, gigabytes: -1, backups: -1, backup_gigabytes: -1, groups: -1, ...DEFAULT_TYPE };
    const shown = await f.call('GET', `${P}/os-quota-sets/${OTHER}`);
    expect([shown.status, shown.json]).toEqual([200, { quota_set: { ...defaults, id: OTHER } }]);
    // In Cinder's order: the fixed resources, then each type's.
    expect(Object.keys(shown.json.quota_set)).toEqual([...RESOURCES, 'id']);

    const updated = await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota_set: { volumes: 11, gigabytes: '1009', tenant_id: OTHER } } });
    // As Cinder's update answers: the whole set, without the id.
    expect([updated.status, updated.json]).toEqual([200, { quota_set: { ...defaults, volumes: 11, gigabytes: 1009 } }]);
    expect((await f.call('GET', `${P}/os-quota-sets/${OTHER}`)).json.quota_set).toMatchObject({ volumes: 11, gigabytes: 1009 });
    expect((await f.call('GET', `${P}/os-quota-sets/${OTHER}/defaults`)).json).toEqual({ quota_set: { ...defaults, id: OTHER } });

    const deleted = await f.call('DELETE', `${P}/os-quota-sets/${OTHER}`);
    expect([deleted.status, deleted.text]).toEqual([200, '']);
    expect((await f.call('GET', `${P}/os-quota-sets/${OTHER}`)).json).toEqual({ quota_set: { ...defaults, id: OTHER } });
  });

  it('shows usage counted from the rows with usage=true', async () => {
    const v = await volume(3);
    expect((await f.call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: v } } })).status).toBe(202);
    const r = await f.call('GET', `${P}/os-quota-sets/proj?usage=True`);
    expect(r.status).toBe(200);
    expect(r.json.quota_set).toMatchObject({
      id: 'proj',
      volumes: { limit: -1, in_use: 1, reserved: 0 },
      snapshots: { limit: -1, in_use: 1, reserved: 0 },
      gigabytes: { limit: -1, in_use: 6, reserved: 0 },
      per_volume_gigabytes: { limit: 1000, in_use: 0, reserved: 0 },
    });
    expectFault(await f.call('GET', `${P}/os-quota-sets/proj?usage=maybe`), 400, 'badRequest', /usage/);
  });

  it("refuses bad quota sets with Cinder's 400s", async () => {
    expectFault(
      await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota_set: { volumes: 1, bogus: 1, volumes_nosuchtype: 2 } } }),
      400,
      'badRequest',
      'Invalid input received: Bad key(s) in quota set: bogus, volumes_nosuchtype',
    );
    expectFault(await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota_set: { volumes___DEFAULT__: -3 } } }), 400, 'badRequest', /quota_set\.volumes___DEFAULT__/);
    expectFault(await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota_set: { volumes: -2 } } }), 400, 'badRequest', /quota_set\.volumes/);
    expectFault(await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota_set: { volumes: '-5' } } }), 400, 'badRequest', /quota_set\.volumes/);
    expectFault(await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota_set: {} } }), 400, 'badRequest', /at least 1 property/);
    expectFault(await f.call('PUT', `${P}/os-quota-sets/${OTHER}`, { body: { quota: { volumes: 1 } } }), 400, 'badRequest');
    await volume(1);
    await volume(1);
    expect((await f.call('PUT', `${P}/os-quota-sets/proj`, { body: { quota_set: { volumes: 5 } } })).status).toBe(200);
    expectFault(
      await f.call('PUT', `${P}/os-quota-sets/proj`, { body: { quota_set: { volumes: 1 } } }),
      400,
      'badRequest',
      'Quota volumes limit must be equal or greater than existing resources. Current usage is 2 and the requested limit is 1.',
    );
  });

  it('shows and updates the default quota class, which every project then follows', async () => {
    const shown = await f.call('GET', `${P}/os-quota-class-sets/default`);
    expect(shown.status).toBe(200);
    expect(shown.json.quota_class_set).toMatchObject({ id: 'default', volumes: -1, per_volume_gigabytes: 1000 });
    const updated = await f.call('PUT', `${P}/os-quota-class-sets/default`, { body: { quota_class_set: { volumes: 12, snapshots: '13' } } });
    expect(updated.status).toBe(200);
    expect(updated.json).toEqual({ quota_class_set: { volumes: 12, per_volume_gigabytes: 1000, snapshots: 13, gigabytes: -1, backups: -1, backup_gigabytes: -1, groups: -1, ...DEFAULT_TYPE } });
    expect((await f.call('GET', `${P}/os-quota-sets/${OTHER}/defaults`)).json.quota_set).toMatchObject({ volumes: 12, snapshots: 13 });
    expect((await f.call('GET', `${P}/os-quota-sets/${OTHER}`)).json.quota_set).toMatchObject({ volumes: 12, snapshots: 13 });
    expectFault(
      await f.call('PUT', `${P}/os-quota-class-sets/default`, { body: { quota_class_set: { volumes_x: 1 } } }),
      400,
      'badRequest',
      'Invalid input received: Bad key(s) in quota class set: volumes_x',
    );
  });

  it("answers the absolute limits with what is used, as Cinder's limits and used_limits", async () => {
    await volume(2);
    await f.call('PUT', `${P}/os-quota-sets/proj`, { body: { quota_set: { volumes: 4, gigabytes: 40, snapshots: 5 } } });
    const r = await f.call('GET', `${P}/limits`);
    expect([r.status, r.json]).toEqual([
      200,
      {
        limits: {
          rate: [],
          absolute: {
            maxTotalVolumeGigabytes: 40, maxTotalBackupGigabytes: -1, maxTotalVolumes: 4, maxTotalSnapshots: 5, maxTotalBackups: -1,
            totalVolumesUsed: 1, totalGigabytesUsed: 2, totalSnapshotsUsed: 0, totalBackupsUsed: 0, totalBackupGigabytesUsed: 0,
          },
        },
      },
    ]);
    // An admin names another project from 3.39 on; before, the parameter is dropped.
    const other = await f.call('GET', `${P}/limits?project_id=${OTHER}`, { headers: { 'OpenStack-API-Version': 'volume 3.39' } });
    expect(other.json.limits.absolute).toMatchObject({ maxTotalVolumes: -1, totalVolumesUsed: 0 });
    const old = await f.call('GET', `${P}/limits?project_id=${OTHER}`, { headers: { 'OpenStack-API-Version': 'volume 3.38' } });
    expect(old.json.limits.absolute).toMatchObject({ maxTotalVolumes: 4, totalVolumesUsed: 1 });
  });

  it('answers a create over quota 413 with Retry-After 0 and writes nothing', async () => {
    await f.call('PUT', `${P}/os-quota-sets/proj`, { body: { quota_set: { volumes: 1, snapshots: 0, per_volume_gigabytes: 10 } } });
    const big = await f.call('POST', `${P}/volumes`, { body: { volume: { size: 11 } } });
    expectFault(big, 413, 'overLimit', 'VolumeSizeExceedsLimit: Requested volume size 11G is larger than maximum allowed limit 10G.');
    expect([big.headers.get('retry-after'), big.json.overLimit.retryAfter]).toEqual(['0', '0']);
    const v = await volume(1);
    expectFault(await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1 } } }), 413, 'overLimit', "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.");
    expectFault(await f.call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: v } } }), 413, 'overLimit', 'SnapshotLimitExceeded: Maximum number of snapshots allowed (0) exceeded');
    expect([await f.h.db.prisma.volume.count(), await f.h.db.prisma.snapshot.count()]).toEqual([1, 0]);
  });

  it('holds a volume type to its own limits over HTTP: 413 for that type, other types untouched, usage per type', async () => {
    expect((await f.call('POST', `${P}/types`, { body: { volume_type: { name: 'fast' } } })).status).toBe(200);
    const put = await f.call('PUT', `${P}/os-quota-sets/proj`, { body: { quota_set: { volumes_fast: 1, gigabytes_fast: '5' } } });
    expect([put.status, put.json.quota_set]).toEqual([200, expect.objectContaining({ volumes_fast: 1, snapshots_fast: -1, gigabytes_fast: 5 })]);
    const typed = await f.call('POST', `${P}/volumes`, { body: { volume: { size: 2, volume_type: 'fast' } } });
    expect(typed.status, typed.text).toBe(202);
    const over = await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1, volume_type: 'fast' } } });
    expectFault(over, 413, 'overLimit', "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes_fast'.");
    expect(over.headers.get('retry-after')).toBe('0');
    // The default type has no limit of its own.
    await volume(1);
    await volume(1);
    const usage = await f.call('GET', `${P}/os-quota-sets/proj?usage=True`);
    expect(usage.json.quota_set).toMatchObject({
      volumes: { limit: -1, in_use: 3, reserved: 0 },
      volumes_fast: { limit: 1, in_use: 1, reserved: 0 },
      gigabytes_fast: { limit: 5, in_use: 2, reserved: 0 },
      volumes___DEFAULT__: { limit: -1, in_use: 2, reserved: 0 },
    });
    // Room for one more fast volume, but not for 4 GiB of it.
    await f.call('PUT', `${P}/os-quota-sets/proj`, { body: { quota_set: { volumes_fast: 2 } } });
    expectFault(
      await f.call('POST', `${P}/volumes`, { body: { volume: { size: 4, volume_type: 'fast' } } }),
      413,
      'overLimit',
      'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes_fast quota. Requested 4G, quota is 5G and 2G has been consumed.',
    );
    expect(await f.h.db.prisma.volume.count()).toBe(3);
    // Cinder's limits name no per-type resource.
    expect(Object.keys((await f.call('GET', `${P}/limits`)).json.limits.absolute).filter((k) => k.includes('fast'))).toEqual([]);
  });
});
