// Quotas (src/manager/quotas.ts over src/engine/store/quota.ts) against a real database: limits
// from the project, the default class and the settings; usage counted from the rows; creates over
// quota refused with Cinder's messages and nothing written; two processes racing for the last
// unit, of which exactly one wins; deletes freeing what they used.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { judge } from '../../src/engine/store/quota.js';
import { InvalidRequest, OverLimit } from '../../src/manager/errors.js';
import { overQuota } from '../../src/manager/quotas.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { createdVolume, deletedVolume, harness, type Harness } from '../support/harness.js';

const racerFile = join(import.meta.dirname, 'quota-racer.ts');

/** Two processes fire `args`' creates at the same moment; every outcome of both. */
async function race(url: string, args: string[]): Promise<string[]> {
  const racers = [0, 1].map(() => {
    const p = spawn(process.execPath, ['--import', 'tsx', racerFile, url, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
    const next = async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`racer ended: ${err}`);
      return r.value;
    };
    return { p, next };
  });
  await Promise.all(racers.map((r) => r.next()));
  for (const r of racers) r.p.stdin!.end('go\n');
  const outcomes = await Promise.all(racers.map(async (r) => JSON.parse(await r.next()) as string[]));
  return outcomes.flat();
}

const P = 'project-a';
const U = 'user-a';

describe('quota judgement (pure)', () => {
  const demand = { projectId: P, reserving: 'volumes' as const, size: 5, deltas: { volumes: 1, gigabytes: 5 }, volumeSize: 5, defaults: {} };
  // Cinder's reservation order: reserve_opts, then add_volume_type_opts' copies for the type.
  const deltas = [['volumes', 1], ['gigabytes', 5], ['volumes_fast', 1], ['gigabytes_fast', 5]] as const;
  const usage = { volumes: 2, snapshots: 0, gigabytes: 10, volumes_fast: 1, gigabytes_fast: 4 };

  it('judges per_volume_gigabytes first, then every resource in the reservation order, per type too', () => {
    expect(judge(demand, deltas, { per_volume_gigabytes: 4, volumes: 2, gigabytes: 10 }, usage)).toEqual({ kind: 'per_volume', size: 5, limit: 4 });
    expect(judge(demand, deltas, { per_volume_gigabytes: 5, volumes: 2, gigabytes: 14, gigabytes_fast: 8 }, usage)).toEqual({
      kind: 'over',
      reserving: 'volumes',
      size: 5,
      overs: [
        { resource: 'volumes', limit: 2, consumed: 2 },
        { resource: 'gigabytes', limit: 14, consumed: 10 },
        { resource: 'gigabytes_fast', limit: 8, consumed: 4 },
      ],
    });
    // Only the type's limit is reached: the type's resource alone is over.
    expect(judge(demand, deltas, { volumes: 10, volumes_fast: 1 }, usage)).toMatchObject({ overs: [{ resource: 'volumes_fast', limit: 1, consumed: 1 }] });
    // A resource never used counts as 0; the last unit is allowed; -1 and a missing limit are unlimited.
    expect(judge(demand, [['volumes_slow', 1]], { volumes_slow: 0 }, usage)).toMatchObject({ overs: [{ resource: 'volumes_slow', limit: 0, consumed: 0 }] });
    expect(judge(demand, deltas, { volumes: 3, gigabytes: 15, per_volume_gigabytes: 5, volumes_fast: 2, gigabytes_fast: 9 }, usage)).toBeNull();
    expect(judge(demand, deltas, { volumes: -1, gigabytes: -1, per_volume_gigabytes: -1, volumes_fast: -1 }, usage)).toBeNull();
    expect(judge(demand, deltas, {}, usage)).toBeNull();
    // Shrinking is never judged: a project over a lowered limit may still give back.
    expect(judge({ ...demand, volumeSize: 2 }, [['gigabytes', -3], ['gigabytes_fast', -3]], { gigabytes: 1, gigabytes_fast: 1 }, usage)).toBeNull();
  });

  it("words each refusal as Cinder's process_reserve_over_quota and FaultWrapper do", () => {
    const over = (reserving: 'volumes' | 'snapshots', size: number, ...overs: Array<[string, number, number]>) => ({
      kind: 'over' as const,
      reserving,
      size,
      overs: overs.map(([resource, limit, consumed]) => ({ resource, limit, consumed })),
    });
    expect(overQuota({ kind: 'per_volume', size: 5, limit: 4 })).toEqual(new OverLimit('VolumeSizeExceedsLimit: Requested volume size 5G is larger than maximum allowed limit 4G.'));
    expect(overQuota(over('volumes', 1, ['volumes', 2, 2]))).toEqual(new OverLimit("VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota 'volumes'."));
    expect(overQuota(over('volumes', 1, ['volumes_fast', 1, 1], ['gigabytes', 3, 3]))).toEqual(
      new OverLimit("VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes_fast'."),
    );
    expect(overQuota(over('snapshots', 2, ['snapshots_fast', 1, 1]))).toEqual(new OverLimit('SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded'));
    expect(overQuota(over('volumes', 2, ['gigabytes', 3, 2]))).toEqual(
      new OverLimit('VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, quota is 3G and 2G has been consumed.'),
    );
    expect(overQuota(over('snapshots', 2, ['gigabytes_fast', 3, 2], ['snapshots_fast', 0, 0]))).toEqual(
      new OverLimit('VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes_fast quota. Requested 2G, quota is 3G and 2G has been consumed.'),
    );
    // A retype that would take the new type's snapshots over: Cinder has no word for it but this.
    expect(overQuota(over('volumes', 2, ['snapshots_fast', 0, 0]))).toEqual(new OverLimit('UnexpectedOverQuota: Unexpected over quota on snapshots_fast.'));
  });
});

describe.each(providers)('quotas on %s', (provider) => {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  const setup = async (url?: string, opts: Parameters<typeof harness>[1] = {}) => {
    const h = await harness(url ?? (await freshDatabaseUrl(provider)), opts);
    open.push(h);
    return h;
  };

  it('shows the settings, then the default class over them, then the project over both', async () => {
    const h = await setup(undefined, { limits: { maxVolumeSizeGiB: 500, quotas: { volumes: 10, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, groups: 10 } } });
    const q = h.manager.quotas;
    // Per type (here `__DEFAULT__`, which every database has) the settings say nothing: -1, as Cinder.
    const settings = {
      volumes: 10, per_volume_gigabytes: 500, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, groups: 10,
      volumes___DEFAULT__: -1, snapshots___DEFAULT__: -1, gigabytes___DEFAULT__: -1,
    };
    expect(await q.defaults()).toEqual(settings);
    expect(await q.projectLimits(P)).toEqual(settings);

    expect(await q.updateClass('default', { volumes: 20, per_volume_gigabytes: 50 })).toEqual({ ...settings, volumes: 20, per_volume_gigabytes: 50 });
    expect(await q.projectLimits(P)).toEqual({ ...settings, volumes: 20, per_volume_gigabytes: 50 });
    // Another class shows its own rows over the default class; projects never follow it.
    expect(await q.updateClass('gold', { snapshots: 99 })).toEqual({ ...settings, volumes: 20, per_volume_gigabytes: 50, snapshots: 99 });

    expect(await q.updateProject(P, { volumes: 3, gigabytes: '7', id: 'ignored', tenant_id: 'ignored' })).toEqual({ ...settings, volumes: 3, gigabytes: 7, per_volume_gigabytes: 50 });
    expect((await q.projectLimits('project-b')).volumes).toBe(20);
    await q.deleteProject(P);
    expect(await q.projectLimits(P)).toEqual({ ...settings, volumes: 20, per_volume_gigabytes: 50 });
  });

  it("refuses unknown keys and values out of Cinder's range, writing nothing", async () => {
    const h = await setup();
    const q = h.manager.quotas;
    await expect(q.updateProject(P, { volumes: 1, bogus: 2, other: 3 })).rejects.toThrow(new InvalidRequest('Invalid input received: Bad key(s) in quota set: bogus, other'));
    await expect(q.updateProject(P, { volumes: -2 })).rejects.toThrow(new InvalidRequest('volumes must be >= -1'));
    await expect(q.updateProject(P, { volumes: 2 ** 31 })).rejects.toThrow(new InvalidRequest('volumes must be <= 2147483647'));
    await expect(q.updateProject(P, { volumes: 'ten' })).rejects.toThrow(new InvalidRequest('volumes must be an integer'));
    await expect(q.updateProject(P, { volumes: true })).rejects.toThrow(new InvalidRequest('volumes must be an integer'));
    await expect(q.updateClass('default', { volumes_nope: 1 })).rejects.toThrow(new InvalidRequest('Invalid input received: Bad key(s) in quota class set: volumes_nope'));
    expect(await h.engine.store.readProjectQuotas(P)).toEqual({});
    expect(await h.engine.store.readClassQuotas('default')).toEqual({});
  });

  it('knows the per-type resources of the volume types it is told of', async () => {
    const h = await setup();
    const { VolumeManager } = await import('../../src/manager/volume-manager.js');
    const typed = new VolumeManager(h.engine, h.driver, h.manager.limits, { volumeTypeNames: async () => ['fast'] });
    expect(await typed.quotas.updateClass('default', { volumes_fast: 4, gigabytes_fast: 40 })).toMatchObject({ volumes_fast: 4, snapshots_fast: -1, gigabytes_fast: 40 });
    expect(await typed.quotas.projectUsage(P)).toMatchObject({ volumes_fast: { limit: 4, in_use: 0, reserved: 0 } });
  });

  it('counts usage from the live rows: creates add, deletes free', async () => {
    const h = await setup();
    const q = h.manager.quotas;
    const a = await createdVolume(h, { projectId: P, userId: U, size: 3 });
    await createdVolume(h, { projectId: P, userId: U, size: 4 });
    await createdVolume(h, { projectId: 'project-b', userId: U, size: 100 });
    const snap = await h.manager.createSnapshot({ volumeId: a.id, projectId: P, userId: U });
    await h.worker.drain();
    expect(await q.projectUsage(P)).toMatchObject({
      volumes: { limit: -1, in_use: 2, reserved: 0 },
      snapshots: { limit: -1, in_use: 1, reserved: 0 },
      gigabytes: { limit: -1, in_use: 3 + 4 + 3, reserved: 0 },
      backups: { limit: -1, in_use: 0, reserved: 0 },
    });
    expect(await q.absoluteLimits(P, true)).toEqual({
      maxTotalVolumeGigabytes: -1, maxTotalBackupGigabytes: -1, maxTotalVolumes: -1, maxTotalSnapshots: -1, maxTotalBackups: -1,
      totalVolumesUsed: 2, totalGigabytesUsed: 10, totalSnapshotsUsed: 1, totalBackupsUsed: 0, totalBackupGigabytesUsed: 0,
    });
    expect(await q.absoluteLimits(P, false)).not.toHaveProperty('totalVolumesUsed');

    await h.manager.deleteSnapshot(snap.id);
    await h.worker.drain();
    expect((await h.manager.getSnapshot(snap.id).catch((e: Error) => e)) instanceof Error).toBe(true);
    await deletedVolume(h, a.id);
    expect(await q.projectUsage(P)).toMatchObject({ volumes: { in_use: 1 }, snapshots: { in_use: 0 }, gigabytes: { in_use: 4 } });
  });

  it('refuses a limit below what the project uses once it has a row for it, as Cinder does', async () => {
    const h = await setup();
    const q = h.manager.quotas;
    await createdVolume(h, { projectId: P, userId: U, size: 5 });
    await createdVolume(h, { projectId: P, userId: U, size: 5 });
    // No row yet: Cinder does not judge it (defaults=False).
    await q.updateProject(P, { volumes: 1 });
    await expect(q.updateProject(P, { volumes: 1, gigabytes: 20 })).rejects.toThrow(
      new InvalidRequest('Quota volumes limit must be equal or greater than existing resources. Current usage is 2 and the requested limit is 1.'),
    );
    await q.updateProject(P, { volumes: 2, gigabytes: 10, per_volume_gigabytes: 1 });
    await expect(q.updateProject(P, { gigabytes: 9 })).rejects.toThrow(/Quota gigabytes limit must be equal or greater than existing resources. Current usage is 10/);
    expect((await q.projectLimits(P)).gigabytes).toBe(10);
  });

  it('refuses volume and snapshot creates over quota with nothing written, and takes the last unit', async () => {
    const h = await setup();
    const q = h.manager.quotas;
    await q.updateProject(P, { volumes: 2, snapshots: 1, gigabytes: 12, per_volume_gigabytes: 6 });
    await expect(h.manager.createVolume({ projectId: P, userId: U, size: 7 })).rejects.toThrow(
      new OverLimit('VolumeSizeExceedsLimit: Requested volume size 7G is larger than maximum allowed limit 6G.'),
    );
    const v = await createdVolume(h, { projectId: P, userId: U, size: 6 });
    await expect(h.manager.createSnapshot({ volumeId: v.id, projectId: P, userId: U })).resolves.toMatchObject({ volumeId: v.id });
    // 6 + 6 of 12 used: one more GiB is over.
    await expect(h.manager.createVolume({ projectId: P, userId: U, size: 1 })).rejects.toThrow(
      new OverLimit('VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 1G, quota is 12G and 12G has been consumed.'),
    );
    await expect(h.manager.createSnapshot({ volumeId: v.id, projectId: P, userId: U })).rejects.toThrow(
      new OverLimit('SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded'),
    );
    await q.updateProject(P, { gigabytes: 100, snapshots: 5 });
    await createdVolume(h, { projectId: P, userId: U, size: 1 });
    await expect(h.manager.createVolume({ projectId: P, userId: U, size: 1 })).rejects.toThrow(
      new OverLimit("VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota 'volumes'."),
    );
    // Another project is not held to this one's quota.
    await createdVolume(h, { projectId: 'project-b', userId: U, size: 50 });
    expect([await h.db.prisma.volume.count({ where: { projectId: P } }), await h.db.prisma.snapshot.count(), await h.db.prisma.volumeTransition.count({ where: { volume: { projectId: P } } })]).toEqual([
      2, 1, 4,
    ]);
  });

  it("holds each volume type to its own limits: usage per type, creates and retypes refused with Cinder's 413, other types untouched", async () => {
    const h = await setup();
    const q = h.manager.quotas;
    await h.manager.types.create({ name: 'fast', description: null, isPublic: true, extraSpecs: {} });
    await h.manager.types.create({ name: 'slow', description: null, isPublic: true, extraSpecs: {} });
    const admin = { projectId: P, isAdmin: true };
    await q.updateProject(P, { volumes_fast: 1, gigabytes_fast: 20, snapshots_fast: 1, volumes_slow: 2 });

    const fast = await createdVolume(h, { projectId: P, userId: U, size: 4, volumeType: 'fast' });
    await expect(h.manager.createVolume({ projectId: P, userId: U, size: 1, volumeType: 'fast' })).rejects.toThrow(
      new OverLimit("VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes_fast'."),
    );
    // The other types, and the default one, are not held to fast's limits.
    const slow = await createdVolume(h, { projectId: P, userId: U, size: 4, volumeType: 'slow' });
    await createdVolume(h, { projectId: P, userId: U, size: 9 });
    // A snapshot counts under its volume's type, in snapshots and gigabytes.
    await h.manager.createSnapshot({ volumeId: fast.id, projectId: P, userId: U });
    await h.worker.drain();
    await expect(h.manager.createSnapshot({ volumeId: fast.id, projectId: P, userId: U })).rejects.toThrow(
      new OverLimit('SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded'),
    );
    // 4 + 4 of 10, and snapshots_fast still full: Cinder reserves gigabytes_fast first, so names it.
    await q.updateProject(P, { gigabytes_fast: 10 });
    await expect(h.manager.createSnapshot({ volumeId: fast.id, projectId: P, userId: U })).rejects.toThrow(
      new OverLimit('VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes_fast quota. Requested 4G, quota is 10G and 8G has been consumed.'),
    );
    expect(await q.projectUsage(P)).toMatchObject({
      volumes: { in_use: 3 }, gigabytes: { in_use: 4 + 4 + 9 + 4 }, snapshots: { in_use: 1 },
      volumes_fast: { limit: 1, in_use: 1, reserved: 0 }, snapshots_fast: { limit: 1, in_use: 1 }, gigabytes_fast: { limit: 10, in_use: 8 },
      volumes_slow: { limit: 2, in_use: 1 }, snapshots_slow: { limit: -1, in_use: 0 }, gigabytes_slow: { limit: -1, in_use: 4 },
      volumes___DEFAULT__: { limit: -1, in_use: 1 }, gigabytes___DEFAULT__: { in_use: 9 },
    });
    // A lowered per-type limit is judged against the per-type usage, as the fixed ones are.
    await expect(q.updateProject(P, { gigabytes_fast: 7 })).rejects.toThrow(
      new InvalidRequest('Quota gigabytes_fast limit must be equal or greater than existing resources. Current usage is 8 and the requested limit is 7.'),
    );

    // A retype takes the volume and its snapshots to the new type: refused while fast is full
    // (the type left as it was), then moving the usage with it.
    await expect(h.manager.retypeVolume(slow.id, 'fast', admin)).rejects.toThrow(
      new OverLimit("VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes_fast'."),
    );
    expect((await h.manager.reads.volume(slow.id)).volumeTypeId).toBe(slow.volumeTypeId);
    await h.manager.retypeVolume(fast.id, 'slow', admin);
    expect(await q.projectUsage(P)).toMatchObject({
      volumes_fast: { in_use: 0 }, snapshots_fast: { in_use: 0 }, gigabytes_fast: { in_use: 0 },
      volumes_slow: { in_use: 2 }, snapshots_slow: { in_use: 1 }, gigabytes_slow: { in_use: 4 + 4 + 4 },
    });
    // slow is now full (2 of 2): the default type's volume may not go there, but fast has room.
    const plain = (await h.db.prisma.volume.findFirst({ where: { projectId: P, size: 9 } }))!;
    await expect(h.manager.retypeVolume(plain.id, 'slow', admin)).rejects.toThrow(/VolumeLimitExceeded: .*'volumes_slow'/);
    // Its snapshots go with it: a type with no room for them refuses as Cinder does.
    await q.updateProject(P, { volumes_slow: -1, snapshots_fast: 0, volumes_fast: 5, gigabytes_fast: -1 });
    await expect(h.manager.retypeVolume(fast.id, 'fast', admin)).rejects.toThrow(new OverLimit('UnexpectedOverQuota: Unexpected over quota on snapshots_fast.'));
    await h.manager.retypeVolume(plain.id, 'fast', admin);
    expect(await q.projectUsage(P)).toMatchObject({ volumes_fast: { in_use: 1 }, gigabytes_fast: { in_use: 9 }, volumes___DEFAULT__: { in_use: 0 } });
  });

  it('lets exactly the quota through when two processes race many creates', async () => {
    const url = await freshDatabaseUrl(provider);
    const h = await setup(url);
    await h.manager.quotas.updateProject(P, { volumes: 5 });
    const volumes = await race(url, ['volumes', '8', P]);
    expect(volumes.filter((r) => r === 'ok')).toHaveLength(5);
    expect(new Set(volumes.filter((r) => r !== 'ok'))).toEqual(new Set(["VolumeLimitExceeded: Maximum number of volumes allowed (5) exceeded for quota 'volumes'."]));
    expect(await h.db.prisma.volume.count({ where: { projectId: P } })).toBe(5);

    const v = await createdVolume(h, { projectId: 'project-b', userId: U, size: 2 });
    await h.manager.quotas.updateProject('project-b', { snapshots: 3 });
    const snapshots = await race(url, ['snapshots', '8', 'project-b', v.id]);
    expect(snapshots.filter((r) => r === 'ok')).toHaveLength(3);
    expect(new Set(snapshots.filter((r) => r !== 'ok'))).toEqual(new Set(['SnapshotLimitExceeded: Maximum number of snapshots allowed (3) exceeded']));
    expect(await h.db.prisma.snapshot.count({ where: { projectId: 'project-b' } })).toBe(3);
  }, 120_000);
});
