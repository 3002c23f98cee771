// The RemoteFS driver on real qcow2 files: every scenario keeps a model of what each snapshot and
// the active file must read, checks it with qemu-io after every operation, and checks the share
// with qemu-img (check, backing chain vs .info, relative names, no leftover files).
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { it as base, describe, expect } from 'vitest';
import type { PhaseResult, SnapshotRef, VolumeRef } from '../../src/drivers/driver.js';
import {
  checkQemuTools,
  createRemoteFsDriver,
  DELETE_PLAN_KEY,
  type RemoteFsDriver,
} from '../../src/drivers/remotefs/index.js';
import {
  dirDigest,
  holdOpenLikeVm,
  novaVolumeSnapshotDelete,
  qemuImgChain,
  qemuImgCheckClean,
  qemuIoMismatches,
  qemuIoWrite,
  type NovaDeleteInfo,
} from '../support/qemu.js';

const SLOT = 64 * 1024;
const LEN = 4096;
const SLOTS = 12;
const GiB = 1024 ** 3;

// Each test gets its own share, so the heavy describes can run their tests concurrently.
const it = base.extend<{ share: string }>({
  // eslint-disable-next-line no-empty-pattern
  share: async ({}, use) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'remotefs-'));
    await use(dir);
    await fs.rm(dir, { recursive: true, force: true });
  },
});

class SimulatedCrash extends Error {}

type Mode = 'offline' | 'assisted';
type Phase =
  | 'createSnapshot'
  | 'deleteSnapshot'
  | 'createSnapshotAssistedBegin'
  | 'createSnapshotAssistedComplete'
  | 'deleteSnapshotAssistedBegin'
  | 'deleteSnapshotAssistedComplete';

interface WorldOptions {
  /** Run every phase a second time, as after a crash before its result was recorded. */
  twice?: boolean;
  /** Stop each phase at its 1st, then 2nd, ... step, as a crash would, re-running until it completes. */
  crashEverywhere?: boolean;
  driver?: RemoteFsDriver;
}

/**
 * One volume and what the manager would record for it, plus the model: which pattern each slot
 * of each snapshot and of the active file must read.
 */
class World {
  readonly vol: VolumeRef;
  readonly driver: RemoteFsDriver;
  /** Snapshot admin metadata as the manager records driver results. */
  readonly meta = new Map<string, Record<string, string>>();
  readonly views = new Map<string, Map<number, number>>();
  readonly active = new Map<number, number>();
  /** How many simulated crashes the phases went through. */
  crashes = 0;
  /** Steps the current phase call has already crashed after; each crashes once, then passes. */
  private crashedSteps = new Set<string>();
  private crashing = false;

  constructor(
    readonly share: string,
    private readonly options: WorldOptions = {},
    id = randomUUID(),
  ) {
    this.vol = { id, size: 1, status: 'available', attachStatus: 'detached', providerLocation: null };
    this.driver =
      options.driver ??
      createRemoteFsDriver(this.share, {
        afterStep: (step) => {
          if (!this.crashing || this.crashedSteps.has(step)) return;
          this.crashedSteps.add(step);
          throw new SimulatedCrash(`crash after ${step}`);
        },
      });
  }

  file(name: string) {
    return path.join(this.share, name);
  }
  get volumeFile() {
    return `volume-${this.vol.id}`;
  }
  snapFile(sid: string) {
    return `${this.volumeFile}.${sid}`;
  }

  ref(sid: string): SnapshotRef {
    return {
      id: sid,
      volumeId: this.vol.id,
      volumeSize: this.vol.size,
      providerLocation: null,
      providerId: null,
      volume: this.vol,
      adminMetadata: { ...(this.meta.get(sid) ?? {}) },
    };
  }

  /** This volume's files; other volumes may be busy in the same share. */
  digest() {
    return dirDigest(this.share, (n) => n.startsWith(this.volumeFile) && !n.startsWith(`${this.volumeFile}.lock`));
  }

  async readInfo(): Promise<Record<string, string> | null> {
    try {
      return JSON.parse(await fs.readFile(this.file(`${this.volumeFile}.info`), 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async activeName(): Promise<string> {
    return (await this.readInfo())?.active ?? this.volumeFile;
  }

  async phase(name: Phase, sid: string): Promise<PhaseResult> {
    const ref = this.ref(sid);
    const call = () => this.driver[name](ref);
    let result: PhaseResult;
    // Re-run after each simulated crash, as the outbox would: every step crashes once, so the
    // phase is resumed from every intermediate state it can leave behind.
    this.crashedSteps = new Set();
    this.crashing = this.options.crashEverywhere === true;
    try {
      for (;;) {
        try {
          result = await call();
          break;
        } catch (err) {
          if (!(err instanceof SimulatedCrash)) throw err;
          this.crashes += 1;
        }
      }
    } finally {
      this.crashing = false;
    }
    if (this.options.twice) {
      const before = await this.digest();
      expect(await call(), `${name} run twice`).toEqual(result);
      expect(await this.digest(), `${name} run twice changed files`).toEqual(before);
    }
    const stored = this.meta.get(sid) ?? {};
    for (const [k, v] of Object.entries(result.adminMetadata ?? {})) {
      if (v === null) delete stored[k];
      else stored[k] = v;
    }
    this.meta.set(sid, stored);
    return result;
  }

  async create() {
    expect(await this.driver.createVolume(this.vol)).toEqual({ providerLocation: this.share });
  }

  /** Writes into the file the VM (or an offline user) writes to: the active one unless told otherwise. */
  async write(slot: number, pattern: number, into?: string) {
    await qemuIoWrite(this.file(into ?? (await this.activeName())), pattern, slot * SLOT, LEN);
    this.active.set(slot, pattern);
  }

  async snapshot(mode: Mode, sid: string, afterSwitch?: { slot: number; pattern: number }) {
    if (mode === 'offline') {
      this.views.set(sid, new Map(this.active));
      expect(await this.phase('createSnapshot', sid)).toEqual({});
      return;
    }
    const begun = await this.phase('createSnapshotAssistedBegin', sid);
    const createInfo = JSON.parse(begun.adminMetadata!.create_info!) as Record<string, unknown>;
    expect(createInfo).toEqual({ snapshot_id: sid, type: 'qcow2', new_file: this.snapFile(sid) });
    // .info must not move before compute has switched the VM.
    expect(await this.activeName()).not.toBe(this.snapFile(sid));
    // Compute switches the VM to new_file; from then on the guest writes there.
    this.views.set(sid, new Map(this.active));
    if (afterSwitch) await this.write(afterSwitch.slot, afterSwitch.pattern, this.snapFile(sid));
    const done = await this.phase('createSnapshotAssistedComplete', sid);
    expect(done).toEqual({ volume: { connectionInfo: this.connectionInfo(this.snapFile(sid)) } });
  }

  async deleteSnapshot(mode: Mode, sid: string, duringMerge?: { slot: number; pattern: number }) {
    if (mode === 'offline') {
      expect(await this.phase('deleteSnapshot', sid)).toEqual({});
    } else {
      const begun = await this.phase('deleteSnapshotAssistedBegin', sid);
      const deleteInfo = JSON.parse(begun.adminMetadata!.delete_info!) as NovaDeleteInfo;
      const vmFile = await this.activeName();
      await novaVolumeSnapshotDelete(this.file(vmFile), deleteInfo);
      if (duringMerge) await this.write(duringMerge.slot, duringMerge.pattern, vmFile);
      expect(await this.phase('deleteSnapshotAssistedComplete', sid)).toEqual({ volume: { adminMetadata: { format: 'qcow2' } } });
    }
    this.views.delete(sid);
  }

  connectionInfo(active: string) {
    return {
      driver_volume_type: 'nfs',
      data: { export: this.share, name: active, options: null, format: 'qcow2' },
      mount_point_base: this.share,
    };
  }

  /** The share as qemu-img sees it agrees with .info, and every view reads what the model says. */
  async verify(label = '') {
    const info = await this.readInfo();
    const active = info?.active ?? this.volumeFile;
    expect(await this.driver.initializeConnection(this.vol, {})).toEqual(this.connectionInfo(active));

    const chain = await qemuImgChain(this.file(active));
    const names = chain.map((c, i) => (i === 0 ? active : path.basename(c.filename)));
    chain.forEach((c, i) => {
      const backing = c['backing-filename'];
      if (i === chain.length - 1) expect(backing, `${label} root ${names[i]}`).toBeUndefined();
      else expect(backing, `${label} backing of ${names[i]} is relative`).toBe(names[i + 1]);
      expect(c['virtual-size']).toBe(this.vol.size * GiB);
    });
    const snapshotIds = Object.keys(info ?? {}).filter((k) => k !== 'active');
    expect(new Set(snapshotIds), `${label} snapshots in .info`).toEqual(new Set(this.views.keys()));
    for (const sid of snapshotIds) expect(names, `${label} ${sid}'s file in the chain`).toContain(info![sid]);

    const files = (await fs.readdir(this.share)).filter((n) => n.startsWith(`${this.volumeFile}`) && !n.endsWith('.info'));
    expect(files.sort(), `${label} files of the volume = the chain`).toEqual([...names].sort());
    for (const f of files) await qemuImgCheckClean(this.file(f));

    for (const [sid, view] of this.views) {
      // A snapshot's data is what lies below its file.
      const below = names[names.indexOf(info![sid]) + 1];
      expect(below, `${label} ${sid} has data below ${info![sid]}`).toBeDefined();
      await this.expectView(below, view, `${label} snapshot ${sid}`);
    }
    await this.expectView(active, this.active, `${label} active`);
  }

  async expectView(file: string, view: Map<number, number>, label: string) {
    const reads = Array.from({ length: SLOTS }, (_, slot) => ({ pattern: view.get(slot) ?? 0, offset: slot * SLOT, length: LEN }));
    expect(await qemuIoMismatches(this.file(file), reads), `${label} (${file}) mismatching offsets`).toEqual([]);
  }
}

const sids = (n: number) => Array.from({ length: n }, () => randomUUID());

/** n snapshots, each with its own data, then deletions in `order`, checked after every step. */
async function runScenario(world: World, n: number, createMode: (i: number) => Mode, order: number[], deleteMode: (k: number) => Mode) {
  await world.create();
  await world.verify('fresh');
  const ids = sids(n);
  for (let i = 0; i < n; i++) {
    await world.write(0, 0x10 + i);
    await world.write(1 + i, 0x20 + i);
    await world.snapshot(createMode(i), ids[i], { slot: 1 + n + i, pattern: 0x30 + i });
    await world.write(0, 0x40 + i);
    await world.verify(`after snapshot ${i + 1}`);
  }
  for (const [k, i] of order.entries()) {
    await world.deleteSnapshot(deleteMode(k), ids[i], { slot: SLOTS - 1, pattern: 0x50 + k });
    await world.write(0, 0x60 + k);
    await world.verify(`after deleting snapshot ${i + 1} (${k + 1}. deletion)`);
  }
  const info = await world.readInfo();
  expect(Object.keys(info ?? { active: '' })).toEqual(['active']);
}

const permutations = (xs: number[]): number[][] =>
  xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

// Between them these hit every merge case: offline commit of the active file and of a middle
// file; online commit, pull with a base snapshot, and pull that flattens the chain.
const row = (order: number[]) => ({ order, label: order.map((i) => i + 1).join(', ') });
// Crash counts: a create stops after writing its overlay and after .info; an offline delete after
// the commit, the rebase (non-active file only), the retire and .info; an assisted delete once.
const CRASH_ORDERS = [
  { ...row([1, 0, 2]), crashes: { offline: 6 + 4 + 4 + 3, assisted: 6 + 3 } },
  { ...row([2, 1, 0]), crashes: { offline: 6 + 3 + 3 + 3, assisted: 6 + 3 } },
];
const ORDERS = permutations([0, 1, 2]).map(row);

describe('checkQemuTools', () => {
  it('passes when qemu-img is installed', async ({ share }) => {
    await expect(checkQemuTools()).resolves.toBeUndefined();
    await expect(checkQemuTools({ binaries: ['qemu-img', 'qemu-io'] })).resolves.toBeUndefined();
  });

  it('names the missing binary and the package to install', async ({ share }) => {
    await expect(checkQemuTools({ env: { PATH: share } })).rejects.toThrow(/qemu-img not found on PATH.*apt-get install qemu-utils/);
    // Only qemu-img reachable: the message names qemu-io.
    const which = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', 'command -v qemu-img'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
    );
    await fs.symlink(which, path.join(share, 'qemu-img'));
    await expect(checkQemuTools({ binaries: ['qemu-img', 'qemu-io'], env: { PATH: share } })).rejects.toThrow(
      /^qemu-io not found on PATH; install it with: apt-get install qemu-utils$/,
    );
  });
});

describe('volumes', () => {
  it('creates a qcow2 file of the volume size, idempotently, and refuses a different size', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [img] = await qemuImgChain(w.file(w.volumeFile));
    expect(img.format).toBe('qcow2');
    expect(img['virtual-size']).toBe(GiB);
    const before = await dirDigest(share);
    await w.create();
    expect(await dirDigest(share)).toEqual(before);
    await expect(w.driver.createVolume({ ...w.vol, size: 2 })).rejects.toThrow(/virtual size 1073741824 bytes, but the volume is 2 GiB/);
  });

  it('initializeConnection returns the NFS connection info naming the active file', async ({ share }) => {
    const driver = createRemoteFsDriver(share, { exportName: 'nfs.example:/srv/cinder' });
    const w = new World(share, { driver });
    await driver.createVolume(w.vol);
    expect(await driver.initializeConnection(w.vol, { host: 'compute-1' })).toEqual({
      driver_volume_type: 'nfs',
      data: { export: 'nfs.example:/srv/cinder', name: w.volumeFile, options: null, format: 'qcow2' },
      mount_point_base: share,
    });
  });

  it('deleteVolume removes the volume, its snapshot files and .info, and nothing else', async ({ share }) => {
    const a = new World(share);
    const b = new World(share);
    await a.create();
    await b.create();
    for (const sid of sids(3)) await a.snapshot('offline', sid);
    await b.snapshot('offline', randomUUID());
    await a.driver.deleteVolume(a.vol);
    expect((await fs.readdir(share)).filter((n) => n.startsWith(a.volumeFile))).toEqual([]);
    await b.verify('other volume untouched');
    await a.driver.deleteVolume(a.vol);
  });

  it('creates the share directory for the first volume only: elsewhere a missing share is unmounted', async ({ share }) => {
    const unmounted = path.join(share, 'not', 'yet');
    const w = new World(unmounted);
    await w.driver.deleteVolume(w.vol);
    await expect(w.driver.initializeConnection(w.vol, {})).rejects.toThrow(/does not exist \(is the share mounted\?\)/);
    await w.create();
    await w.verify();
  });

  it('refuses ids that are not hex and dashes, before touching the share', async ({ share }) => {
    const w = new World(share);
    await expect(w.driver.createVolume({ ...w.vol, id: '../../etc' })).rejects.toThrow(/invalid volume id/);
    await w.create();
    await expect(w.driver.createSnapshot({ ...w.ref('x'), id: '../x' })).rejects.toThrow(/invalid snapshot id/);
    expect(await fs.readdir(share)).toEqual([w.volumeFile]);
  });
});

describe.concurrent('offline snapshots', () => {
  it('keep the data written before them, unchanged by later writes', async ({ share }) => {
    const w = new World(share, { twice: true });
    await w.create();
    await w.write(0, 0x11);
    const [sid] = sids(1);
    await w.snapshot('offline', sid);
    expect(await w.readInfo()).toEqual({ active: w.snapFile(sid), [sid]: w.snapFile(sid) });
    await w.write(0, 0x22);
    await w.write(1, 0x33);
    await w.verify();
    expect(await qemuIoMismatches(w.file(w.volumeFile), [{ pattern: 0x11, offset: 0, length: LEN }])).toEqual([]);
  });

  it.for(ORDERS)('3 snapshots deleted in order $label', async ({ order }, { share }) => {
    await runScenario(new World(share, { twice: true }), 3, () => 'offline', order, () => 'offline');
  });

  it('4 snapshots: middle, first, last, then the remaining one', async ({ share }) => {
    await runScenario(new World(share, { twice: true }), 4, () => 'offline', [1, 0, 3, 2], () => 'offline');
  });

  it.for(CRASH_ORDERS)('resume after a crash at every step, deleting in order $label', async ({ order, crashes }, { share }) => {
    const w = new World(share, { crashEverywhere: true, twice: true });
    await runScenario(w, 3, () => 'offline', order, () => 'offline');
    expect(w.crashes).toBe(crashes.offline);
  });

  it('fails with qemu-img stderr when a file of the chain is missing', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2] = sids(2);
    await w.snapshot('offline', s1);
    await w.snapshot('offline', s2);
    await fs.rm(w.file(w.volumeFile));
    await expect(w.driver.deleteSnapshot(w.ref(s1))).rejects.toThrow(/qemu-img info .* failed \(exit 1\): .*Could not open/s);
  });

  it('refuses a chain whose backing file points outside the volume', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [sid] = sids(1);
    await w.snapshot('offline', sid);
    const outside = path.join(share, 'elsewhere');
    await fs.writeFile(outside, '');
    await new Promise<void>((resolve, reject) =>
      execFile('qemu-img', ['rebase', '-u', '-b', outside, '-F', 'raw', w.file(w.snapFile(sid))], (err) => (err ? reject(err) : resolve())),
    );
    await expect(w.driver.deleteSnapshot(w.ref(sid))).rejects.toThrow(/invalid backing file/);
  });
});

describe.concurrent('assisted snapshots', () => {
  it.for(ORDERS)('3 snapshots deleted in order $label, each phase run twice', async ({ order }, { share }) => {
    await runScenario(new World(share, { twice: true }), 3, () => 'assisted', order, () => 'assisted');
  });

  it.for(CRASH_ORDERS)('resume after a crash at every step, deleting in order $label', async ({ order, crashes }, { share }) => {
    const w = new World(share, { crashEverywhere: true, twice: true });
    await runScenario(w, 3, () => 'assisted', order, () => 'assisted');
    expect(w.crashes).toBe(crashes.assisted);
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

  it('create complete refuses a new file that is not on the active file', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2] = sids(2);
    await w.phase('createSnapshotAssistedBegin', s1);
    await w.snapshot('offline', s2);
    await expect(w.driver.createSnapshotAssistedComplete(w.ref(s1))).rejects.toThrow(/is backed by .*, but the active file is/);
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

describe('locking', () => {
  it('two volumes snapshot concurrently', async ({ share }) => {
    const a = new World(share, { twice: true });
    const b = new World(share, { twice: true });
    await Promise.all([
      runScenario(a, 3, (i) => (i === 1 ? 'offline' : 'assisted'), [1, 0, 2], () => 'assisted'),
      runScenario(b, 3, () => 'offline', [2, 0, 1], (k) => (k === 0 ? 'assisted' : 'offline')),
    ]);
  });

  it('snapshot requests on one volume, from two driver instances at once, queue behind each other', async ({ share }) => {
    const w = new World(share);
    const other = createRemoteFsDriver(share);
    await w.create();
    await w.write(0, 0x11);
    const ids = sids(4);
    for (const sid of ids) w.views.set(sid, new Map(w.active));
    await Promise.all(ids.map((sid, i) => (i % 2 ? other : w.driver).createSnapshot(w.ref(sid))));
    await w.write(0, 0x22);
    await w.verify('after concurrent creates');
    const chain = await qemuImgChain(w.file(await w.activeName()));
    expect(chain).toHaveLength(5);
    await Promise.all(ids.slice(0, 3).map((sid, i) => (i % 2 ? other : w.driver).deleteSnapshot(w.ref(sid))));
    for (const sid of ids.slice(0, 3)) w.views.delete(sid);
    await w.verify('after concurrent deletes');
  });

  it('waits for a lock held by another process, and proceeds once it is released', async ({ share }) => {
    let sawContention!: () => void;
    const contendedSeen = new Promise<void>((resolve) => (sawContention = resolve));
    const contended: unknown[] = [];
    const driver = createRemoteFsDriver(share, {
      onLockContended: (c) => {
        contended.push(c);
        sawContention();
      },
    });
    const w = new World(share, { driver });
    await w.create();
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/lock-holder.ts'), share, w.vol.id], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('locked');

    const [sid] = sids(1);
    w.views.set(sid, new Map());
    const creating = w.driver.createSnapshot(w.ref(sid));
    // The child still holds the lock here: the create has seen it and is waiting.
    await Promise.race([
      contendedSeen,
      creating.then(() => {
        throw new Error('the create ran while another process held the volume lock');
      }),
    ]);
    expect(contended).toEqual([{ key: w.vol.id, holder: expect.objectContaining({ pid: child.pid, host: os.hostname() }) }]);
    expect(await fs.readdir(share)).not.toContain(w.snapFile(sid));
    child.stdin!.write('release\n');
    expect((await lines.next()).value).toBe('released');
    await creating;
    expect(await exited).toBe(0);
    await w.verify();
  });

  it('breaks a lock left by a dead process, and times out on a live one naming its holder', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const lock = w.file(`${w.volumeFile}.lock`);
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.once('exit', resolve));
    await fs.writeFile(lock, JSON.stringify({ pid: dead.pid, host: os.hostname(), token: 'gone', since: 'earlier' }));
    const [s1, s2] = sids(2);
    await w.snapshot('offline', s1);
    await expect(fs.access(lock)).rejects.toThrow();

    await fs.writeFile(lock, JSON.stringify({ pid: process.ppid, host: os.hostname(), token: 'alive', since: 'earlier' }));
    const impatient = createRemoteFsDriver(share, { lockTimeoutMs: 50 });
    await expect(impatient.createSnapshot(w.ref(s2))).rejects.toThrow(
      new RegExp(`timed out after 50 ms waiting for volume lock ${w.volumeFile}.lock held by pid ${process.ppid} on `),
    );
    await fs.rm(lock);
    await w.verify();
  });
});
