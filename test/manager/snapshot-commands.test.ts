// Snapshot commands (src/manager/snapshot-commands.ts) against a real database: what each command
// refuses before the machine sees it, the wording of what the machine refuses, and that a row
// the caller already read is used as it is (read once).
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { callbackRefusal, COMPUTE_PROGRESS_KEY, COMPUTE_STATUS_KEY } from '../../src/manager/snapshot-commands.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';

const MISSING = '00000000-0000-0000-0000-000000000000';
const owner = { projectId: 'project-a', userId: 'user-a' };

describe('callbackRefusal', () => {
  it("words a refusal as Cinder's status table does, and allows what the table allows", () => {
    expect(callbackRefusal('creating', 'available')).toBeNull();
    expect(callbackRefusal('deleting', 'error_deleting')).toBeNull();
    expect(callbackRefusal('creating', 'deleting')).toBe('Provided snapshot status deleting not allowed for snapshot with status creating');
    expect(callbackRefusal('available', 'creating')).toBe('Snapshot status available not allowed for update_snapshot_status');
  });
});

describe.each(providers)('snapshot commands on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const setup = async () => {
    h = await harness(await freshDatabaseUrl(provider));
    return h;
  };

  it('creates from an available volume, or an in-use one with force, with its metadata', async () => {
    await setup();
    const detached = await volumeFor(h, false);
    const offline = await h.manager.snapshots.create({ volumeId: detached.id, ...owner, name: 'n', description: 'd', metadata: { b: '2', a: '1' } });
    expect(offline).toMatchObject({ volumeId: detached.id, ...owner, name: 'n', description: 'd', volumeSize: 1, status: 'creating', phase: 'creating.driverCreate', version: 1 });
    expect(await h.manager.reads.metadata(offline.id)).toEqual({ a: '1', b: '2' });

    const attached = await volumeFor(h, true);
    await expect(h.manager.snapshots.create({ volumeId: attached.id, ...owner })).rejects.toThrow(
      new InvalidRequest(`Invalid volume: Volume ${attached.id} is in-use; snapshot it with force=true.`),
    );
    const online = await h.manager.snapshots.create({ volumeId: attached.id, ...owner, force: true });
    expect(online.phase).toBe('creating.storageBegin');

    await h.manager.volumes.resetStatus(detached.id, { status: 'error' });
    await expect(h.manager.snapshots.create({ volumeId: detached.id, ...owner })).rejects.toThrow(
      new InvalidRequest(`Invalid volume: Volume ${detached.id} status must be available or in-use, but is error.`),
    );
    await expect(h.manager.snapshots.create({ volumeId: MISSING, ...owner })).rejects.toThrow(new NotFound(`Volume ${MISSING} could not be found.`));
  });

  it('delivers a callback by id or with the row read, and records its compute fields as admin metadata', async () => {
    await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.snapshots.create({ volumeId: volume.id, ...owner, force: true });
    await h.worker.drain();
    await h.manager.snapshots.updateStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'in-progress', computeProgress: '40%' });
    expect(await h.manager.reads.adminMetadata(snap.id)).toMatchObject({ [COMPUTE_STATUS_KEY]: 'in-progress', [COMPUTE_PROGRESS_KEY]: '40%' });

    const row = await h.manager.reads.snapshot(snap.id);
    const accepted = await h.manager.snapshots.updateStatus(row, { status: 'creating', progress: '50%' });
    expect(accepted).toMatchObject({ kind: 'accepted', version: row.version + 1 });
    // The table forbids creating -> deleting: refused in Cinder's words, and recorded.
    await expect(h.manager.snapshots.updateStatus(snap.id, { status: 'deleting' })).rejects.toThrow(
      new InvalidRequest('Provided snapshot status deleting not allowed for snapshot with status creating'),
    );
    expect((await h.manager.reads.transitions(snap.id)).at(-1)).toMatchObject({ rejected: true, eventType: 'compute.status' });
    await expect(h.manager.snapshots.updateStatus(MISSING, { status: 'creating' })).rejects.toThrow(new NotFound(`Snapshot ${MISSING} could not be found.`));
  });

  it('deletes only from a deletable status, and answers with the phase it was refused in', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.snapshots.create({ volumeId: volume.id, ...owner });
    await expect(h.manager.snapshots.delete(snap.id)).rejects.toThrow(
      new InvalidRequest(`Invalid snapshot: Snapshot ${snap.id} status must be available, error or error_deleting to delete, but is creating.`),
    );
    await h.worker.drain();
    // The row the caller holds is the row the event is offered to.
    await h.manager.snapshots.delete(await h.manager.reads.snapshot(snap.id));
    expect((await h.manager.reads.snapshot(snap.id)).phase).toBe('deleting.driverDelete');
    await h.worker.drain();
    await expect(h.manager.reads.snapshot(snap.id)).rejects.toThrow(new NotFound(`Snapshot ${snap.id} could not be found.`));
    await expect(h.manager.snapshots.delete(snap.id)).rejects.toThrow(NotFound);
  });

  it('resets status and force-deletes as an admin, from any live phase', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.snapshots.create({ volumeId: volume.id, ...owner });
    await h.manager.snapshots.resetStatus(snap.id, 'error');
    const reset = await h.manager.reads.snapshot(snap.id);
    expect([reset.status, reset.errorReason]).toEqual(['error', 'reset_by_admin']);
    await h.manager.snapshots.forceDelete(reset);
    await h.worker.drain();
    await expect(h.manager.reads.snapshot(snap.id)).rejects.toThrow(NotFound);
    await expect(h.manager.snapshots.resetStatus(snap.id, 'available')).rejects.toThrow(NotFound);
    await expect(h.manager.snapshots.forceDelete(snap.id)).rejects.toThrow(NotFound);
  });

  it('edits name and description without touching the machine', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const snap = await h.manager.snapshots.create({ volumeId: volume.id, ...owner, name: 'before', description: 'kept' });
    const updated = await h.manager.snapshots.updateFields(snap.id, { name: 'after' });
    expect([updated.name, updated.description, updated.version, updated.phase]).toEqual(['after', 'kept', snap.version, snap.phase]);
    expect(await h.manager.reads.transitions(snap.id)).toHaveLength(1);
  });
});
