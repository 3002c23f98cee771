// Volumes from a source, extend, cascade delete and transfers (volume-commands.ts,
// transfer-commands.ts) against a real database: each is a step of the volume machine, its work
// an outbox job, and what the machine cannot see (the source, the snapshots, the transfer row)
// judged in the transaction that stores the step.
import { afterEach, describe, expect, it } from 'vitest';
import { EXTEND_NEW_SIZE_KEY } from '../../src/engine/outbox-worker.js';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { cryptHash } from '../../src/manager/transfer-commands.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { createdVolume, harness, runVolumeJobs, volumeFor, type Harness } from '../support/harness.js';

const MISSING = '00000000-0000-0000-0000-000000000000';
const USER = { projectId: 'project-a', userId: 'user-a' };

describe.each(providers)('volume data commands on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const setup = async () => {
    h = await harness(await freshDatabaseUrl(provider));
    return h;
  };
  const deleted = () => h.driver.journal.invocations().filter((i) => i.op === 'deleteSnapshot').map((i) => i.id);
  const row = (id: string) => h.db.prisma.volume.findUniqueOrThrow({ where: { id } });
  /** A detached volume with one available snapshot. */
  const withSnapshot = async (size = 1) => {
    const volume = await createdVolume(h, { ...USER, size, name: 'src' });
    const snapshot = await h.manager.createSnapshot({ ...USER, volumeId: volume.id, name: 's' });
    await h.worker.drain();
    expect((await h.manager.getSnapshot(snapshot.id)).status).toBe('available');
    return { volume, snapshot };
  };

  it("creates a volume from a snapshot with the snapshot's size, through the driver's copy", async () => {
    await setup();
    const { snapshot } = await withSnapshot(2);
    const copies: Array<[string, string, number]> = [];
    h.driver.createVolumeFromSnapshot = async (v, s) => {
      copies.push([v.id, s.id, s.volumeSize]);
      return { providerLocation: 'copied' };
    };
    const created = await h.manager.createVolume({ ...USER, snapshotId: snapshot.id });
    expect(created).toMatchObject({ size: 2, status: 'creating', snapshotId: snapshot.id, sourceVolid: null });
    const [history] = await h.manager.volumeTransitions(created.id);
    expect(JSON.parse(history!.payload!)).toEqual({ source: { kind: 'snapshot', id: snapshot.id } });
    await runVolumeJobs(h, created.id);
    expect(copies).toEqual([[created.id, snapshot.id, 2]]);
    expect(await row(created.id)).toMatchObject({ status: 'available', providerLocation: 'copied', size: 2 });
  });

  it("refuses a source that is missing, another project's, not available, or larger than the volume", async () => {
    await setup();
    const { volume, snapshot } = await withSnapshot(2);
    await expect(h.manager.createVolume({ ...USER, snapshotId: MISSING })).rejects.toThrow(new NotFound(`Snapshot ${MISSING} could not be found.`));
    await expect(h.manager.createVolume({ ...USER, sourceVolid: MISSING })).rejects.toThrow(new NotFound(`Volume ${MISSING} could not be found.`));
    await expect(h.manager.createVolume({ ...USER, snapshotId: snapshot.id, canSee: (p) => p === 'project-b' })).rejects.toThrow(NotFound);
    await expect(h.manager.createVolume({ ...USER, snapshotId: snapshot.id, size: 1 })).rejects.toThrow(
      new InvalidRequest("Invalid input received: Volume size '1'GB cannot be smaller than the snapshot size 2GB. They must be >= original snapshot size."),
    );
    await expect(h.manager.createVolume({ ...USER, sourceVolid: volume.id, size: 1 })).rejects.toThrow(/cannot be smaller than original volume size {2}2GB/);
    await expect(h.manager.createVolume({ ...USER, snapshotId: snapshot.id, sourceVolid: volume.id })).rejects.toThrow(InvalidRequest);
    await expect(h.manager.createVolume({ ...USER })).rejects.toThrow(/Volume size 'None'/);
    await h.manager.deleteSnapshot(snapshot.id);
    await expect(h.manager.createVolume({ ...USER, snapshotId: snapshot.id })).rejects.toThrow(
      new InvalidRequest("Invalid snapshot: Originating snapshot status must be one of 'available' values"),
    );
    expect(await h.db.prisma.volume.count()).toBe(1);
  });

  it('keeps the source snapshot while a volume is copied from it: its delete waits for the copy', async () => {
    await setup();
    const { snapshot } = await withSnapshot();
    const created = await h.manager.createVolume({ ...USER, snapshotId: snapshot.id });
    await h.manager.deleteSnapshot(snapshot.id);
    // The delete job runs first and finds the copy pending: handed back, not run.
    const deleteJob = await h.db.prisma.outboxJob.findFirstOrThrow({ where: { snapshotId: snapshot.id, kind: 'deleteSnapshot', status: 'pending' } });
    expect((await runSnapshotJob(deleteJob.id)).result).toBe('deferred');
    expect(deleted()).toEqual([]);
    await runVolumeJobs(h, created.id);
    expect((await row(created.id)).status).toBe('available');
    h.clock.advance(5);
    await h.worker.drain();
    expect(deleted()).toEqual([snapshot.id]);
  });

  /** Claims and runs one snapshot job as the worker would. */
  async function runSnapshotJob(jobId: number) {
    const [claimed] = await h.engine.store.claimJobs(h.worker.workerId, 10, h.clock.now(), 60_000).then((jobs) => jobs.filter((j) => j.id === jobId));
    const context = await h.engine.store.loadJobContext([claimed!.snapshotId!]);
    return h.worker.run(claimed!, context.get(claimed!.snapshotId!));
  }

  it('refuses to delete a volume while a clone of it is being created, and takes an in-use source', async () => {
    await setup();
    const source = await volumeFor(h, true);
    const clone = await h.manager.createVolume({ ...USER, sourceVolid: source.id });
    expect(clone).toMatchObject({ size: 1, sourceVolid: source.id });
    await expect(h.manager.deleteVolume(source.id, true)).rejects.toThrow(`Invalid volume: Volume ${source.id} is the source of volumes being created: ${clone.id}.`);
    await runVolumeJobs(h, clone.id);
    expect((await row(clone.id)).status).toBe('available');
    await h.manager.deleteVolume(source.id, true);
    expect((await row(source.id)).status).toBe('deleting');
  });

  it('extends through the driver: the size changes when it is done; a failure leaves error_extending and the old size', async () => {
    await setup();
    const volume = await createdVolume(h, { ...USER, size: 1 });
    await expect(h.manager.extendVolume(volume.id, 1)).rejects.toThrow(
      'Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).',
    );
    await h.manager.extendVolume(volume.id, 3);
    expect(await row(volume.id)).toMatchObject({ status: 'extending', size: 1 });
    expect(await h.engine.store.readVolumeAdminMetadata(volume.id)).toEqual({ [EXTEND_NEW_SIZE_KEY]: '3' });
    const extended: Array<[number, number]> = [];
    h.driver.extendVolume = async (v, size) => void extended.push([v.size, size]);
    await runVolumeJobs(h, volume.id);
    expect(extended).toEqual([[1, 3]]);
    expect(await row(volume.id)).toMatchObject({ status: 'available', size: 3 });
    expect(await h.engine.store.readVolumeAdminMetadata(volume.id)).toEqual({});

    h.driver.extendVolume = async () => {
      throw new Error('no space left');
    };
    await h.manager.extendVolume(volume.id, 4);
    await runVolumeJobs(h, volume.id);
    expect(await row(volume.id)).toMatchObject({ status: 'error_extending', size: 3, errorReason: 'driver_error: no space left' });
    await expect(h.manager.extendVolume(volume.id, 5)).rejects.toThrow("Invalid volume: Volume " + volume.id + " status must be 'available' to extend, currently error_extending.");
  });

  it('refuses to extend an attached volume with Cinder’s NFS message', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    await expect(h.manager.extendVolume(volume.id, 2)).rejects.toThrow(`Invalid volume: Cannot extend volume ${volume.id} while it is attached.`);
    expect((await row(volume.id)).status).toBe('in-use');
  });

  it('cascade delete: the snapshots go through their machines first, then the volume', async () => {
    await setup();
    const { volume, snapshot } = await withSnapshot();
    const second = await h.manager.createSnapshot({ ...USER, volumeId: volume.id, name: 't' });
    await h.worker.drain();
    await expect(h.manager.deleteVolume(volume.id)).rejects.toThrow(/still has 2 dependent snapshots/);
    await h.manager.deleteVolume(volume.id, false, true);
    expect((await row(volume.id)).status).toBe('deleting');
    // First run: the volume's job asks each snapshot's machine to delete, and waits.
    await h.worker.drain();
    h.clock.advance(5);
    await h.worker.drain();
    expect(await h.db.prisma.snapshot.findMany({ where: { volumeId: volume.id }, select: { status: true }, orderBy: { createdAt: 'asc' } })).toEqual([
      { status: 'deleted' },
      { status: 'deleted' },
    ]);
    expect((await row(volume.id)).status).toBe('deleted');
    expect(deleted().sort()).toEqual([snapshot.id, second.id].sort());
  });

  it('cascade delete is refused while a snapshot is not available or error', async () => {
    await setup();
    const volume = await createdVolume(h, { ...USER, size: 1 });
    await h.manager.createSnapshot({ ...USER, volumeId: volume.id, name: 'creating' });
    await expect(h.manager.deleteVolume(volume.id, false, true)).rejects.toThrow(/Invalid volume: Volume status must be available or error/);
    expect((await row(volume.id)).status).toBe('available');
  });

  it('transfers: offered (awaiting-transfer), accepted with the key by another project, snapshots and all', async () => {
    await setup();
    const { volume, snapshot } = await withSnapshot();
    const t = await h.manager.transfers.create({ volumeId: volume.id, name: 'gift' });
    expect(t.authKey).toMatch(/^[0-9a-f]{16}$/);
    const stored = await h.db.prisma.transfer.findUniqueOrThrow({ where: { id: t.id } });
    // Only the salt and the HMAC: the key itself is nowhere in the row.
    expect(JSON.stringify(stored)).not.toContain(t.authKey);
    expect(stored.cryptHash).toBe(cryptHash(stored.salt, t.authKey));
    expect((await row(volume.id)).status).toBe('awaiting-transfer');
    await expect(h.manager.deleteVolume(volume.id)).rejects.toThrow(InvalidRequest);
    await expect(h.manager.transfers.accept(t.id, 'wrong', { projectId: 'project-b', userId: 'user-b' })).rejects.toThrow(
      `Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`,
    );
    await h.manager.transfers.accept(t.id, t.authKey, { projectId: 'project-b', userId: 'user-b' });
    expect(await row(volume.id)).toMatchObject({ status: 'available', projectId: 'project-b', userId: 'user-b' });
    expect(await h.manager.getSnapshot(snapshot.id)).toMatchObject({ projectId: 'project-b', userId: 'user-b' });
    expect(await h.db.prisma.transfer.findUniqueOrThrow({ where: { id: t.id } })).toMatchObject({ accepted: true, deleted: true, destinationProjectId: 'project-b' });
    await expect(h.manager.transfers.get(t.id)).rejects.toThrow(NotFound);
  });

  it('transfers: no_snapshots leaves the snapshots with the donor; a withdrawn offer frees the volume', async () => {
    await setup();
    const { volume, snapshot } = await withSnapshot();
    const kept = await h.manager.transfers.create({ volumeId: volume.id, noSnapshots: true });
    await h.manager.transfers.accept(kept.id, kept.authKey, { projectId: 'project-b', userId: 'user-b' });
    expect((await row(volume.id)).projectId).toBe('project-b');
    expect((await h.manager.getSnapshot(snapshot.id)).projectId).toBe('project-a');

    const other = await createdVolume(h, { ...USER, size: 1 });
    const offer = await h.manager.transfers.create({ volumeId: other.id });
    expect((await h.manager.transfers.list('project-a')).map((x) => x.id)).toEqual([offer.id]);
    await expect(h.manager.transfers.create({ volumeId: other.id })).rejects.toThrow('Invalid volume: status must be available');
    await h.manager.transfers.delete(offer.id);
    expect(await row(other.id)).toMatchObject({ status: 'available', projectId: 'project-a' });
    expect(await h.manager.transfers.list('project-a')).toEqual([]);
  });
});
