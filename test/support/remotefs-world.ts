// The RemoteFS driver's tests on real qcow2 files (test/drivers/remotefs/): every scenario keeps a
// model of what each snapshot and the active file must read, checks it with qemu-io after every
// operation, and checks the share with qemu-img (check, backing chain vs .info, relative names, no
// leftover files).
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it as base, expect } from 'vitest';
import type { DriverPhase, PhaseResult, SnapshotRef, VolumeRef } from '../../src/drivers/driver.js';
import { createRemoteFsDriver, type RemoteFsDriver } from '../../src/drivers/remotefs/index.js';
import {
  dirDigest,
  novaVolumeSnapshotDelete,
  qemuImgChain,
  qemuImgCheckClean,
  qemuIoMismatches,
  qemuIoWrite,
  type NovaDeleteInfo,
} from './qemu.js';

const SLOT = 64 * 1024;
export const LEN = 4096;
export const SLOTS = 12;
export const GiB = 1024 ** 3;

// Each test gets its own share, so the heavy describes can run their tests concurrently.
export const it = base.extend<{ share: string }>({
  // eslint-disable-next-line no-empty-pattern
  share: async ({}, use) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'remotefs-'));
    await use(dir);
    await fs.rm(dir, { recursive: true, force: true });
  },
});

class SimulatedCrash extends Error {}

export type Mode = 'offline' | 'assisted';

export interface WorldOptions {
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
export class World {
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

  async phase(name: DriverPhase, sid: string): Promise<PhaseResult> {
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

export const sids = (n: number) => Array.from({ length: n }, () => randomUUID());

/** n snapshots, each with its own data, then deletions in `order`, checked after every step. */
export async function runScenario(world: World, n: number, createMode: (i: number) => Mode, order: number[], deleteMode: (k: number) => Mode) {
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
export const CRASH_ORDERS = [
  { ...row([1, 0, 2]), crashes: { offline: 6 + 4 + 4 + 3, assisted: 6 + 3 } },
  { ...row([2, 1, 0]), crashes: { offline: 6 + 3 + 3 + 3, assisted: 6 + 3 } },
];
export const ORDERS = permutations([0, 1, 2]).map(row);
