// Volume commands (src/manager/volume-commands.ts) against a real database: asynchronous creation
// and deletion through the outbox and the driver, the legacy attach flow as events of the volume
// machine, and the delete that must not leave a snapshot behind.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequest, NotFound, OverLimit } from '../../src/manager/errors.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { TestDriver } from '../support/doubles.js';
import { createdVolume, harness, runVolumeJobs, volumeFor, type Harness } from '../support/harness.js';

const INSTANCE = '11111111-2222-3333-4444-555555555555';
const MISSING = '00000000-0000-0000-0000-000000000000';

describe.each(providers)('volume commands on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const setup = async (opts: Parameters<typeof harness>[1] = {}) => {
    h = await harness(await freshDatabaseUrl(provider), opts);
    return h;
  };
  const statusOf = async (id: string) => {
    const v = await h.db.prisma.volume.findUniqueOrThrow({ where: { id } });
    return [v.status, v.attachStatus];
  };

  it('creates a volume asynchronously through the driver, and leaves it in error when the driver fails', async () => {
    await setup();
    let driverCalls = 0;
    const create = h.driver.createVolume.bind(h.driver);
    h.driver.createVolume = async () => {
      driverCalls++;
      return create();
    };
    const requested = await h.manager.volumes.create({ projectId: 'project-a', userId: 'user-a', size: 2, name: 'v', description: 'd' });
    // As Cinder answers: the volume being created; the driver has not run yet.
    expect(requested).toMatchObject({ projectId: 'project-a', userId: 'user-a', size: 2, name: 'v', description: 'd', status: 'creating', providerLocation: null, version: 1 });
    expect([requested.createdAt, driverCalls]).toEqual([h.clock.now(), 0]);
    expect(await h.db.prisma.outboxJob.findMany({ where: { volumeId: requested.id }, select: { kind: true, phase: true, version: true, status: true } })).toEqual([
      { kind: 'createVolume', phase: 'creating', version: 1, status: 'pending' },
    ]);
    const reports = await h.worker.drain();
    expect(reports.map((r) => [r.volumeId, r.kind, r.result, r.outcome?.kind])).toEqual([[requested.id, 'createVolume', 'ran', 'accepted']]);
    const volume = await h.manager.reads.volume(requested.id);
    expect(volume).toMatchObject({ status: 'available', providerLocation: 'test-share', version: 2, phase: 'available' });
    expect(driverCalls).toBe(1);

    h.driver.createVolume = async () => {
      throw new Error('no space on the share');
    };
    const doomed = await h.manager.volumes.create({ projectId: 'project-a', userId: 'user-a', size: 1 });
    await h.worker.drain();
    const failed = await h.db.prisma.volume.findUniqueOrThrow({ where: { id: doomed.id } });
    expect([failed.status, failed.name, failed.errorReason]).toEqual(['error', null, 'driver_error: no space on the share']);
    const history = await h.manager.volumeTransitions(doomed.id);
    expect(history.map((t) => [t.version, t.fromPhase, t.toPhase, t.eventType, t.source, t.rejected])).toEqual([
      [1, null, 'creating', 'volume.create', 'api', false],
      [2, 'creating', 'error', 'storage.failed', 'driver', false],
    ]);
  });

  it('refuses a size over the limit before writing a row or calling the driver', async () => {
    await setup({ limits: { maxVolumeSizeGiB: 100 } });
    let driverCalls = 0;
    h.driver.createVolume = async () => {
      driverCalls++;
      return { providerLocation: 'test-share' };
    };
    for (const size of [101, 3119190, 2147483647]) {
      await expect(h.manager.volumes.create({ projectId: 'project-a', userId: 'user-a', size })).rejects.toThrow(
        new OverLimit(`VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit 100G.`),
      );
    }
    expect([driverCalls, await h.db.prisma.volume.count()]).toEqual([0, 0]);
    // The limit itself is allowed.
    expect((await createdVolume(h, { projectId: 'project-a', userId: 'user-a', size: 100 })).status).toBe('available');
    expect(driverCalls).toBe(1);
  });

  it('moves through reserve, attach, begin/roll detaching and detach, refusing moves from the wrong status', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    await h.manager.volumes.reserve(volume.id);
    expect(await statusOf(volume.id)).toEqual(['attaching', 'detached']);
    await expect(h.manager.volumes.reserve(volume.id)).rejects.toThrow(
      new InvalidRequest('Invalid volume: Volume status must be available to reserve, but current status is: attaching.'),
    );
    await h.manager.volumes.unreserve(volume.id);
    expect(await statusOf(volume.id)).toEqual(['available', 'detached']);
    await expect(h.manager.volumes.beginDetaching(volume.id)).rejects.toThrow(/must be in-use to begin detaching, but current status is: available/);

    const attachment = await h.manager.volumes.attach(volume.id, { instanceUuid: INSTANCE, mountpoint: '/dev/vdb', connectionInfo: { via: 'test' } });
    expect(attachment).toMatchObject({ volumeId: volume.id, instanceUuid: INSTANCE, mountpoint: '/dev/vdb', attachStatus: 'attached', connectionInfo: '{"via":"test"}' });
    expect(attachment.attachTime).toEqual(h.clock.now());
    expect(await statusOf(volume.id)).toEqual(['in-use', 'attached']);
    await expect(h.manager.volumes.attach(volume.id, { mountpoint: '/dev/vdc' })).rejects.toThrow(/must be available or reserved or attaching to attach, but current status is: in-use/);

    await h.manager.volumes.beginDetaching(volume.id);
    expect(await statusOf(volume.id)).toEqual(['detaching', 'attached']);
    await h.manager.volumes.rollDetaching(volume.id);
    expect(await statusOf(volume.id)).toEqual(['in-use', 'attached']);

    // An unknown attachment is not found, and nothing is detached.
    await expect(h.manager.volumes.detach(volume.id, MISSING)).rejects.toThrow(new NotFound(`Attachment ${MISSING} could not be found.`));
    expect((await h.manager.reads.volume(volume.id)).attachments.map((a) => a.id)).toEqual([attachment.id]);

    await h.manager.volumes.detach(volume.id, attachment.id);
    expect(await statusOf(volume.id)).toEqual(['available', 'detached']);
    // Every move is a transition of the volume's machine, refusals included.
    const history = await h.manager.volumeTransitions(volume.id);
    expect(history.map((t) => [t.eventType, t.toStatus, t.rejected])).toEqual([
      ['volume.create', 'creating', false],
      ['storage.done', 'available', false],
      ['os-reserve', 'attaching', false],
      ['os-reserve', 'attaching', true],
      ['os-unreserve', 'available', false],
      ['os-begin_detaching', 'available', true],
      ['os-attach', 'in-use', false],
      ['os-attach', 'in-use', true],
      ['os-begin_detaching', 'detaching', false],
      ['os-roll_detaching', 'in-use', false],
      ['os-detach', 'available', false],
    ]);
    expect(history.map((t) => t.version)).toEqual([1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8]);
    expect((await h.manager.reads.volume(volume.id)).attachments).toEqual([]);
    const closed = await h.db.prisma.volumeAttachment.findUniqueOrThrow({ where: { id: attachment.id } });
    expect([closed.attachStatus, closed.deleted, closed.detachTime]).toEqual(['detached', true, h.clock.now()]);
    await expect(h.manager.volumes.detach(volume.id)).rejects.toThrow(new InvalidRequest(`Invalid volume: Volume ${volume.id} is not attached.`));
  });

  it('keeps the volume in use until its last attachment is detached', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const first = await h.manager.volumes.attach(volume.id, { instanceUuid: INSTANCE, mountpoint: '/dev/vdb' });
    await h.manager.volumes.resetStatus(volume.id, { status: 'attaching' });
    await h.manager.volumes.attach(volume.id, { instanceUuid: INSTANCE, mountpoint: '/dev/vdc' });
    await h.manager.volumes.detach(volume.id, first.id);
    expect(await statusOf(volume.id)).toEqual(['in-use', 'attached']);
    // Without an id, every attachment goes.
    await h.manager.volumes.detach(volume.id);
    expect(await statusOf(volume.id)).toEqual(['available', 'detached']);
  });

  it('asks the driver for connection info, or describes the volume when the driver has none', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    expect(await h.manager.volumes.initializeConnection(volume.id, {})).toEqual({ driver_volume_type: 'test', data: { volume_id: volume.id } });
    Object.assign(h.driver, { initializeConnection: async (v: { id: string }) => ({ driver_volume_type: 'nfs', data: { name: v.id } }) });
    expect(await h.manager.volumes.initializeConnection(volume.id, {})).toEqual({ driver_volume_type: 'nfs', data: { name: volume.id } });
    // Attaching without connection info stores the driver's.
    const attachment = await h.manager.volumes.attach(volume.id, { mountpoint: '/dev/vdb' });
    expect(JSON.parse(attachment.connectionInfo!)).toEqual({ driver_volume_type: 'nfs', data: { name: volume.id } });
  });

  it('updates the user fields and answers with the live attachments; resets status and attach status', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const updated = await h.manager.volumes.update(volume.id, { name: 'renamed' });
    expect([updated.name, updated.description, updated.attachments.length]).toEqual(['renamed', null, 1]);
    await h.manager.volumes.resetStatus(volume.id, { status: 'error', attachStatus: null });
    expect(await statusOf(volume.id)).toEqual(['error', 'attached']);
    await h.manager.volumes.resetStatus(volume.id, { attachStatus: 'detached' });
    expect(await statusOf(volume.id)).toEqual(['error', 'detached']);
  });

  it('deletes a volume only without snapshots and, unless forced, from a deletable status', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.snapshots.create({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    await h.worker.drain();
    // Refused in the transaction that would have moved it to deleting, and recorded.
    await expect(h.manager.volumes.delete(volume.id)).rejects.toThrow(
      new InvalidRequest(`Invalid volume: Volume ${volume.id} still has 1 dependent snapshots.`),
    );
    expect(await statusOf(volume.id)).toEqual(['available', 'detached']);
    expect((await h.manager.volumeTransitions(volume.id)).at(-1)).toMatchObject({
      eventType: 'volume.delete', rejected: true, toStatus: 'available', reason: `volume still has 1 dependent snapshots: ${snap.id} (available)`,
    });
    // Forced, too (Cinder's force skips the status check, not the snapshots).
    await expect(h.manager.volumes.delete(volume.id, true)).rejects.toThrow(/still has 1 dependent snapshots/);

    await h.manager.snapshots.delete(snap.id);
    await h.worker.drain();
    await h.manager.volumes.delete(volume.id);
    // Deleting until the driver has run.
    expect(await statusOf(volume.id)).toEqual(['deleting', 'detached']);
    await h.worker.drain();
    const row = await h.db.prisma.volume.findUniqueOrThrow({ where: { id: volume.id } });
    expect([row.status, row.deleted, row.deletedAt]).toEqual(['deleted', true, h.clock.now()]);
    await expect(h.manager.reads.volume(volume.id)).rejects.toThrow(new NotFound(`Volume ${volume.id} could not be found.`));
    await expect(h.manager.volumes.delete(volume.id)).rejects.toThrow(NotFound);

    const attached = await volumeFor(h, true);
    await expect(h.manager.volumes.delete(attached.id)).rejects.toThrow(/Volume status must be available or error/);
    expect(await statusOf(attached.id)).toEqual(['in-use', 'attached']);
    await h.manager.volumes.delete(attached.id, true);
    await runVolumeJobs(h, attached.id);
    expect(await statusOf(attached.id)).toEqual(['deleted', 'attached']);
  });

  it('leaves a volume the driver could not delete in error_deleting', async () => {
    const driver = new TestDriver();
    driver.deleteVolume = async () => {
      throw new Error('share unreachable');
    };
    await setup({ driver });
    const volume = await volumeFor(h, false);
    await h.manager.volumes.delete(volume.id);
    await h.worker.drain();
    expect(await statusOf(volume.id)).toEqual(['error_deleting', 'detached']);
    expect((await h.manager.reads.volume(volume.id)).errorReason).toBe('driver_error: share unreachable');
    // error_deleting is not a status Cinder deletes from without force.
    await expect(h.manager.volumes.delete(volume.id)).rejects.toThrow(InvalidRequest);
  });

  it('answers not found for an unknown volume', async () => {
    await setup();
    for (const command of [
      () => h.manager.volumes.reserve(MISSING),
      () => h.manager.volumes.attach(MISSING, { mountpoint: '/dev/vdb' }),
      () => h.manager.volumes.detach(MISSING),
      () => h.manager.volumes.update(MISSING, { name: 'x' }),
      () => h.manager.volumes.resetStatus(MISSING, { status: 'error' }),
      () => h.manager.volumes.initializeConnection(MISSING, {}),
      () => h.manager.volumes.delete(MISSING),
    ]) {
      await expect(command()).rejects.toThrow(new NotFound(`Volume ${MISSING} could not be found.`));
    }
  });
});
