// Snapshot delete of an attached volume (assisted-delete.ts): begin plans the merge and hands
// compute delete_info; compute merges as Nova's libvirt driver does; complete records .info and
// removes the file that left the chain.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { describe, expect } from 'vitest';
import { DELETE_PLAN_KEY } from '../../../src/drivers/remotefs/index.js';
import { dirDigest, holdOpenLikeVm, novaVolumeSnapshotDelete, type NovaDeleteInfo } from '../../support/qemu.js';
import { it, ORDERS, runScenario, sids, World } from '../../support/remotefs-world.js';

describe.concurrent('assisted snapshots', () => {
  it.for(ORDERS)('3 snapshots deleted in order $label, each phase run twice', async ({ order }, { share }) => {
    await runScenario(new World(share, { twice: true }), 3, () => 'assisted', order, () => 'assisted');
  });

  it('mixed: created detached and attached, deleted attached and detached', async ({ share }) => {
    await runScenario(new World(share, { twice: true }), 4, (i) => (i % 2 ? 'assisted' : 'offline'), [2, 0, 3, 1], (k) => (k % 2 ? 'offline' : 'assisted'));
  });

  it('never writes a file the VM holds open; an offline delete on it fails with qemu-img stderr', async ({ share }) => {
    const w = new World(share, { twice: true });
    await w.create();
    await w.write(0, 0x11);
    const [sid] = sids(1);
    let vm = await holdOpenLikeVm(w.file(w.volumeFile));
    try {
      await w.phase('createSnapshotAssistedBegin', sid);
      w.views.set(sid, new Map(w.active));
      // Compute switches the VM to new_file.
      await vm.close();
      vm = await holdOpenLikeVm(w.file(w.snapFile(sid)));
      await w.phase('createSnapshotAssistedComplete', sid);
      // An offline delete would have to commit the VM's file: qemu's image lock refuses it.
      await expect(w.driver.deleteSnapshot(w.ref(sid))).rejects.toThrow(/qemu-img commit -d .* failed \(exit 1\): .*Failed to get .*lock/s);
      const begun = await w.phase('deleteSnapshotAssistedBegin', sid);
      // libvirt pulls inside the running VM; qemu-img can only do it with the VM out of the way.
      await vm.close();
      await novaVolumeSnapshotDelete(w.file(w.snapFile(sid)), JSON.parse(begun.adminMetadata!.delete_info!) as NovaDeleteInfo);
      vm = await holdOpenLikeVm(w.file(w.snapFile(sid)));
      await w.phase('deleteSnapshotAssistedComplete', sid);
      w.views.delete(sid);
    } finally {
      await vm.close();
    }
    await w.verify();
    expect((await fs.readdir(share)).sort()).toEqual([w.snapFile(sid), `${w.volumeFile}.info`]);
  });

  it('delete_info follows remotefs.py _delete_snapshot_online for last, middle and first snapshots', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2, s3] = sids(3);
    for (const sid of [s1, s2, s3]) await w.snapshot('assisted', sid);
    const V = w.volumeFile;
    const [S1, S2, S3] = [s1, s2, s3].map((s) => w.snapFile(s));
    const deleteInfo = async (sid: string) => JSON.parse((await w.driver.deleteSnapshotAssistedBegin(w.ref(sid))).adminMetadata!.delete_info!);
    const vid = w.vol.id;
    // Active file: compute pulls the base (S2) into it, keeping S1 as the new base.
    expect(await deleteInfo(s3)).toEqual({ type: 'qcow2', volume_id: vid, file_to_merge: S1, merge_target_file: null });
    // Not active: compute commits the snapshot file into its base.
    expect(await deleteInfo(s2)).toEqual({ type: 'qcow2', volume_id: vid, file_to_merge: S2, merge_target_file: S1 });
    expect(await deleteInfo(s1)).toEqual({ type: 'qcow2', volume_id: vid, file_to_merge: S1, merge_target_file: V });

    // After the pull, s2 (whose file was the base) lives in the active file.
    await w.deleteSnapshot('assisted', s3);
    expect(await w.readInfo()).toEqual({ active: S3, [s1]: S1, [s2]: S3 });
    expect(await fs.readdir(share)).not.toContain(S2);
    await w.verify();
    // The active file's base has no snapshot of its own: base=None, libvirt flattens the chain.
    await w.deleteSnapshot('assisted', s1);
    expect(await deleteInfo(s2)).toEqual({ type: 'qcow2', volume_id: vid, file_to_merge: null, merge_target_file: null });
    await w.deleteSnapshot('assisted', s2);
    expect(await w.readInfo()).toEqual({ active: S3 });
    expect((await fs.readdir(share)).sort()).toEqual([S3, `${V}.info`]);
    await w.verify();
  });

  it('complete refuses to run before compute merged, and changes nothing', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2] = sids(2);
    await w.snapshot('assisted', s1);
    await w.snapshot('assisted', s2);
    for (const sid of [s1, s2]) {
      await w.phase('deleteSnapshotAssistedBegin', sid);
      const before = await dirDigest(share);
      await expect(w.driver.deleteSnapshotAssistedComplete(w.ref(sid))).rejects.toThrow(/compute has not merged/);
      expect(await dirDigest(share)).toEqual(before);
    }
  });

  it('begin tells the engine to skip compute when compute already merged, or there is nothing to merge', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2] = sids(2);
    await w.snapshot('assisted', s1);
    await w.snapshot('assisted', s2);
    await w.phase('deleteSnapshotAssistedBegin', s2);
    const deleteInfo = JSON.parse(w.meta.get(s2)!.delete_info!) as NovaDeleteInfo;
    await novaVolumeSnapshotDelete(w.file(await w.activeName()), deleteInfo);
    // A retried delete (the callback was lost) must not plan a second pull on the merged chain:
    // it keeps the first plan and lets storage complete alone.
    expect(await w.driver.deleteSnapshotAssistedBegin(w.ref(s2))).toEqual({ skipCompute: true });
    expect(JSON.parse(w.meta.get(s2)![DELETE_PLAN_KEY]!)).toMatchObject({ mode: 'pull', fileToDelete: w.volumeFile + '.' + s1 });
    await w.phase('deleteSnapshotAssistedComplete', s2);
    const info = await w.readInfo();
    expect(info).not.toHaveProperty(s2);
    expect(Object.keys(info!).sort()).toEqual(['active', s1].sort());

    // A snapshot that never reached .info (its create failed) is deleted without compute.
    const ghost = randomUUID();
    const before = await dirDigest(share);
    const begin = await w.driver.deleteSnapshotAssistedBegin(w.ref(ghost));
    expect(begin).toEqual({ skipCompute: true, adminMetadata: { [DELETE_PLAN_KEY]: JSON.stringify({ snapshotId: ghost, mode: 'none' }) } });
    await w.driver.deleteSnapshotAssistedComplete({ ...w.ref(ghost), adminMetadata: { [DELETE_PLAN_KEY]: begin.adminMetadata![DELETE_PLAN_KEY]! } });
    expect(await dirDigest(share)).toEqual(before);
  });
});
