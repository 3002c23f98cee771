// The agent's QEMU mode on real qemu-system-x86_64 processes: an attach starts QEMU with the
// volume open, snapshots switch it with blockdev-snapshot, deletes run block-stream / block-commit
// while the "guest" writes through QMP (HMP qemu-io on the active node). Data is read back with
// qemu-io from the files after QEMU has let go of them, and qemu-img check must be clean.
//
// Block jobs run rate-limited (the agent's blockJobSpeed fault option) so that a test acts while
// the job is certainly running; the test then lifts the limit (block-job-set-speed 0) and the job
// finishes. Nothing waits on time: every wait is on a callback, a QMP event or a process exit.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QemuHypervisor } from '../../../src/compute/agent/qemu-hypervisor.js';
import { exited, processRuns, QemuMachine } from '../../../src/qemu/qemu-machine.js';
import { AGENT_QEMU_RUN_DIR_NAME } from '../../../src/contracts/compute-agent-files.js';
import { startComputeAgent, type ComputeAgentOptions, type RunningComputeAgent } from '../../../src/compute/agent/server.js';
import type { AgentFaults } from '../../../src/compute/agent/types.js';
import { startFakeStorage, type FakeStorage } from '../../support/fake-storage.js';
import { qemuImgCheckClean, qemuImgChain, qemuIoWrite, run } from '../../support/qemu.js';
import { createOverlay, createVolumeFile, makeShare } from '../../support/qemu-agent.js';

const SERVER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const VOLUME = '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a';
const S1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const S2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const S3 = 'cccccccc-0000-4000-8000-000000000003';
const BASE = `volume-${VOLUME}`;
const F1 = `${BASE}.${S1}`;
const F2 = `${BASE}.${S2}`;
const F3 = `${BASE}.${S3}`;
const K64 = 64 * 1024;
const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
/**
 * Each layer also gets 2 MiB of its own (at 2 + 2i MiB), more than one chunk of a block job
 * (512 KiB), so a rate-limited job is still running after its first chunk.
 */
const BULK = [0xa0, 0xa1, 0xa2, 0xa3].map((pattern, i) => ({ pattern, offset: (2 + 2 * i) * MiB, length: 2 * MiB }));

let storage: FakeStorage;
let share: { dir: string; remove: () => Promise<void> };
const running: RunningComputeAgent[] = [];

const inShare = (name: string) => path.join(share.dir, name);
const hex = (p: number) => `0x${p.toString(16).padStart(2, '0')}`;

beforeEach(async () => {
  storage = await startFakeStorage();
  share = await makeShare();
});
afterEach(async () => {
  while (running.length) await running.pop()!.close();
  await storage.close();
  await share.remove();
});

async function startAgent(faults: AgentFaults = {}, extra: Partial<ComputeAgentOptions> = {}): Promise<RunningComputeAgent> {
  const agent = await startComputeAgent({
    port: 0,
    storageUrl: storage.url,
    tokenProvider: async () => 'nova:service',
    shareDir: share.dir,
    mode: 'qemu',
    faults,
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    callbackRetry: { sleep: async () => {} },
    ...extra,
  });
  running.push(agent);
  return agent;
}

const hypervisorOf = (agent: RunningComputeAgent) => agent.agent.hypervisor as QemuHypervisor;
const guest = (agent: RunningComputeAgent, command: string) => hypervisorOf(agent).guestIo(SERVER, VOLUME, command);
const guestWrite = (agent: RunningComputeAgent, pattern: number, offset: number) => guest(agent, `write -P ${hex(pattern)} ${offset} ${K64}`);
/** QEMU's own answer: the file the guest writes to. */
const qemuActive = async (agent: RunningComputeAgent) => (await agent.agent.activeFileOf(VOLUME)).activeFile;

const alive = (pid: number) => processRuns(pid);

/** Offsets of `reads` whose bytes, read through the chain of `file` (qemu-io -U), differ from their pattern. */
async function mismatches(file: string, reads: [pattern: number, offset: number, length?: number][]): Promise<number[]> {
  const args = ['-U', '-r'];
  for (const [p, off, len] of reads) args.push('-c', `read -P ${hex(p)} ${off} ${len ?? K64}`);
  const r = await run('qemu-io', [...args, inShare(file)]);
  const text = r.stdout + r.stderr;
  if ((r.stdout.match(/^read \d+\/\d+ bytes/gm) ?? []).length !== reads.length) throw new Error(`qemu-io read of ${file} failed: ${text}`);
  const failed = [...text.matchAll(/Pattern verification failed at offset (\d+)/g)].map((m) => Number(m[1]));
  return reads.filter(([, off, len]) => failed.some((f) => f >= off && f < off + (len ?? K64))).map(([, off]) => off);
}

/** A raw volume with 0x11 at 0, attached to SERVER: QEMU starts and opens it. */
async function attachedVolume(agent: RunningComputeAgent): Promise<void> {
  await createVolumeFile(share.dir, BASE, 'raw', SIZE);
  await qemuIoWrite(inShare(BASE), 0x11, 0, K64);
  await qemuIoWrite(inShare(BASE), BULK[0]!.pattern, BULK[0]!.offset, BULK[0]!.length);
  storage.volumes.set(VOLUME, { name: BASE, format: 'raw' });
  const res = await fetch(`${agent.url}/servers/${SERVER}/os-volume_attachments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ volumeAttachment: { volumeId: VOLUME } }),
  });
  expect(res.status).toBe(200);
}

async function detach(agent: RunningComputeAgent): Promise<void> {
  const res = await fetch(`${agent.url}/servers/${SERVER}/os-volume_attachments/${VOLUME}`, { method: 'DELETE' });
  expect(res.status).toBe(202);
}

/** The storage side's overlay on the active file, then compute's part; resolves with the callback body. */
async function snapshotOnline(agent: RunningComputeAgent, snapshotId: string, backing: string, backingFormat: 'raw' | 'qcow2') {
  const file = await createOverlay(share.dir, backing, `${BASE}.${snapshotId}`, backingFormat, SIZE);
  const before = storage.callbacks.length;
  const res = await fetch(`${agent.url}/os-assisted-volume-snapshots`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ snapshot: { volume_id: VOLUME, create_info: { snapshot_id: snapshotId, type: 'qcow2', new_file: file } } }),
  });
  expect(res.status).toBe(200);
  return (await storage.waitForCallbacks(before + 1))[before]!.body;
}

async function deleteOnline(agent: RunningComputeAgent, snapshotId: string, fileToMerge: string | null, mergeTarget: string | null) {
  const before = storage.callbacks.length;
  const info = { type: 'qcow2', volume_id: VOLUME, file_to_merge: fileToMerge, merge_target_file: mergeTarget };
  const res = await fetch(`${agent.url}/os-assisted-volume-snapshots/${snapshotId}?delete_info=${encodeURIComponent(JSON.stringify(info))}`, {
    method: 'DELETE',
  });
  expect(res.status).toBe(204);
  return (await storage.waitForCallbacks(before + 1))[before]!.body;
}

/** BASE(0x11@0) <- F1(0x22@64k) <- F2(0x33@128k) <- F3(0x44@192k), F3 active, every write by the guest. */
async function threeSnapshots(agent: RunningComputeAgent): Promise<void> {
  await attachedVolume(agent);
  expect((await snapshotOnline(agent, S1, BASE, 'raw')).compute_snapshot_status).toBe('complete');
  await guestWrite(agent, 0x22, K64);
  await guestBulk(agent, 1);
  expect((await snapshotOnline(agent, S2, F1, 'qcow2')).compute_snapshot_status).toBe('complete');
  await guestWrite(agent, 0x33, 2 * K64);
  await guestBulk(agent, 2);
  expect((await snapshotOnline(agent, S3, F2, 'qcow2')).compute_snapshot_status).toBe('complete');
  await guestWrite(agent, 0x44, 3 * K64);
  await guestBulk(agent, 3);
}

const guestBulk = (agent: RunningComputeAgent, layer: number) =>
  guest(agent, `write -P ${hex(BULK[layer]!.pattern)} ${BULK[layer]!.offset} ${BULK[layer]!.length}`);

/** Every layer's bulk data, read through QEMU. */
async function guestReadsBulk(agent: RunningComputeAgent): Promise<void> {
  for (const b of BULK) await guest(agent, `read -P ${hex(b.pattern)} ${b.offset} ${b.length}`);
}

/** The bulk reads of the first `layers` layers. */
const bulk = (layers: number): [number, number, number][] => BULK.slice(0, layers).map((b) => [b.pattern, b.offset, b.length]);

const OK_DELETE = { status: 'deleting', compute_snapshot_status: 'complete' };

describe('QEMU mode: online create', () => {
  it('three snapshots with guest writes between them: QEMU writes to the newest overlay, and each snapshot holds its own data', async () => {
    const agent = await startAgent();
    await threeSnapshots(agent);
    expect(await qemuActive(agent)).toBe(F3);
    const chain = await qemuImgChain(inShare(F3));
    expect(chain.map((c) => path.basename(c.filename))).toEqual([F3, F2, F1, BASE]);

    // A snapshot's data is what lies below its overlay; the guest's later writes are not in it.
    expect(await mismatches(BASE, [[0x11, 0], [0x00, K64], ...bulk(1), [0x00, BULK[1]!.offset, 2 * MiB]])).toEqual([]);
    expect(await mismatches(F1, [[0x11, 0], [0x22, K64], [0x00, 2 * K64], ...bulk(2), [0x00, BULK[2]!.offset, 2 * MiB]])).toEqual([]);
    expect(await mismatches(F2, [[0x11, 0], [0x22, K64], [0x33, 2 * K64], [0x00, 3 * K64], ...bulk(3), [0x00, BULK[3]!.offset, 2 * MiB]])).toEqual([]);

    const pid = (await hypervisorOf(agent).pidOf(SERVER))!;
    await detach(agent);
    expect(await alive(pid)).toBe(false);
    await qemuImgCheckClean(inShare(F3));
    expect(await mismatches(F3, [[0x11, 0], [0x22, K64], [0x33, 2 * K64], [0x44, 3 * K64], ...bulk(4)])).toEqual([]);
  });

  it('QEMU holds the lock: an offline qemu-img commit of the active file is refused while it runs', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    await snapshotOnline(agent, S1, BASE, 'raw');
    const refused = await run('qemu-img', ['commit', inShare(F1)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Failed to get "write" lock/);
    await detach(agent);
    expect((await run('qemu-img', ['commit', inShare(F1)])).code).toBe(0);
  });

  it('refuses a new_file not backed by the file QEMU has open: error callback, QEMU keeps writing to the old one', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    await createOverlay(share.dir, F1, F2, 'qcow2');
    const before = storage.callbacks.length;
    await fetch(`${agent.url}/os-assisted-volume-snapshots`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ snapshot: { volume_id: VOLUME, create_info: { snapshot_id: S2, type: 'qcow2', new_file: F2 } } }),
    });
    expect((await storage.waitForCallbacks(before + 1))[before]!.body).toEqual({ status: 'error', compute_snapshot_status: 'error' });
    expect(await qemuActive(agent)).toBe(BASE);
  });
});

describe('QEMU mode: online delete while the guest writes', () => {
  it('oldest (block-commit), middle (block-commit), newest (block-stream): data written before and during each job survives', async () => {
    const jobs: string[] = [];
    let duringPattern = 0x50;
    const written: [number, number][] = [];
    let agent!: RunningComputeAgent;
    agent = await startAgent({
      blockJobSpeed: 1,
      duringBlockJob: async ({ jobId, machine }) => {
        const [job] = await machine.qmp.execute<{ type: string; device: string }[]>('query-block-jobs');
        jobs.push(job!.type);
        // The guest writes while the job is held at 1 byte/s, then the limit is lifted.
        const offset = (4 + written.length) * K64;
        await guestWrite(agent, duringPattern, offset);
        written.push([duringPattern++, offset]);
        await machine.qmp.execute('block-job-set-speed', { device: jobId, speed: 0 });
      },
    });
    await threeSnapshots(agent);

    // Oldest: Cinder sends file_to_merge=F1, merge_target_file=BASE (F1 is not active).
    expect(await deleteOnline(agent, S1, F1, BASE)).toMatchObject(OK_DELETE);
    await rm(inShare(F1));
    expect((await qemuImgChain(inShare(F3))).map((c) => path.basename(c.filename))).toEqual([F3, F2, BASE]);
    // Middle: F2 into BASE.
    expect(await deleteOnline(agent, S2, F2, BASE)).toMatchObject(OK_DELETE);
    await rm(inShare(F2));
    expect((await qemuImgChain(inShare(F3))).map((c) => path.basename(c.filename))).toEqual([F3, BASE]);
    // Newest, whose overlay is active: the backing of its backing is none, so everything is pulled.
    expect(await deleteOnline(agent, S3, null, null)).toMatchObject(OK_DELETE);
    await rm(inShare(BASE));
    expect(jobs).toEqual(['commit', 'commit', 'stream']);
    expect(await qemuActive(agent)).toBe(F3);

    // The guest still reads everything through QEMU, with the merged files gone from the share.
    const all: [number, number][] = [[0x11, 0], [0x22, K64], [0x33, 2 * K64], [0x44, 3 * K64], ...written];
    for (const [p, off] of all) await guest(agent, `read -P ${hex(p)} ${off} ${K64}`);
    await guestReadsBulk(agent);
    await detach(agent);
    await qemuImgCheckClean(inShare(F3));
    expect((await qemuImgChain(inShare(F3))).map((c) => path.basename(c.filename))).toEqual([F3]);
    expect(await mismatches(F3, [...all, ...bulk(4)])).toEqual([]);
  });

  it('an active commit (top = the active file) pivots to the base when QEMU reports the job ready', async () => {
    const agent = await startAgent();
    await threeSnapshots(agent);
    expect(await deleteOnline(agent, S3, F3, F2)).toMatchObject(OK_DELETE);
    expect(await qemuActive(agent)).toBe(F2);
    await guestWrite(agent, 0x66, 5 * K64);
    await detach(agent);
    await qemuImgCheckClean(inShare(F2));
    expect(await mismatches(F2, [[0x11, 0], [0x22, K64], [0x33, 2 * K64], [0x44, 3 * K64], [0x66, 5 * K64], ...bulk(4)])).toEqual([]);
  });

  it('a cancelled job ends in error_deleting, the chain unchanged and the guest still on its file', async () => {
    const agent = await startAgent({
      blockJobSpeed: 1,
      duringBlockJob: async ({ jobId, machine }) => {
        await machine.cancelJob(jobId);
      },
    });
    await threeSnapshots(agent);
    expect(await deleteOnline(agent, S1, F1, BASE)).toEqual({ status: 'error_deleting', compute_snapshot_status: 'error' });
    expect((await qemuImgChain(inShare(F3))).map((c) => path.basename(c.filename))).toEqual([F3, F2, F1, BASE]);
    expect(await qemuActive(agent)).toBe(F3);
    await guestWrite(agent, 0x77, 4 * K64);
  });

  it('QEMU killed mid-job: error_deleting at once, and the supervisor restarts QEMU with the volume open', async () => {
    let killed = 0;
    const agent = await startAgent({
      blockJobSpeed: 1,
      duringBlockJob: async ({ machine }) => {
        killed = machine.pid!;
        process.kill(killed, 'SIGKILL');
        await machine.closed;
        expect(await exited(killed, 10_000)).toBe(true);
      },
    });
    await threeSnapshots(agent);
    expect(await deleteOnline(agent, S2, F2, F1)).toEqual({ status: 'error_deleting', compute_snapshot_status: 'error' });
    expect(await alive(killed)).toBe(false);
    // The next request finds a new QEMU holding the same active file.
    expect(await qemuActive(agent)).toBe(F3);
    const pid = await hypervisorOf(agent).pidOf(SERVER);
    expect(pid).not.toBe(killed);
    expect(await alive(pid!)).toBe(true);
    await guest(agent, `read -P 0x44 ${3 * K64} ${K64}`);
  });
});

describe('QEMU mode: supervision', () => {
  it('an agent that crashes leaves QEMU running; the next agent finds it, and its shutdown stops it', async () => {
    const first = await startAgent();
    await attachedVolume(first);
    await snapshotOnline(first, S1, BASE, 'raw');
    await guestWrite(first, 0x22, K64);
    const pid = (await hypervisorOf(first).pidOf(SERVER))!;
    await first.crash();
    running.splice(running.indexOf(first), 1);
    expect(await alive(pid)).toBe(true);

    const second = await startAgent();
    expect(await hypervisorOf(second).pidOf(SERVER)).toBe(pid);
    expect(await qemuActive(second)).toBe(F1);
    expect((await snapshotOnline(second, S2, F1, 'qcow2')).compute_snapshot_status).toBe('complete');
    expect(await qemuActive(second)).toBe(F2);
    await guest(second, `read -P 0x22 ${K64} ${K64}`);

    await second.close();
    running.splice(running.indexOf(second), 1);
    expect(await alive(pid)).toBe(false);
  });

  it('a detach stops the instance QEMU and releases the files', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    const pid = (await hypervisorOf(agent).pidOf(SERVER))!;
    expect(await alive(pid)).toBe(true);
    await detach(agent);
    expect(await alive(pid)).toBe(false);
    expect((await promisify(execFile)('qemu-img', ['info', '--output=json', inShare(BASE)])).stdout).toContain('"format": "raw"');
  });
});

describe('QEMU mode: pausing the guest around the overlay switch', () => {
  const running$ = async (agent: RunningComputeAgent) => (await (await hypervisorOf(agent).machineFor(SERVER)).status()).status;

  it('pauses for the switch only and resumes after it: the guest runs before and after, the pause is measured', async () => {
    const seen: string[] = [];
    let agent!: RunningComputeAgent;
    agent = await startAgent(
      {
        whilePaused: async (step) => {
          seen.push(`${step}:${await running$(agent)}`);
        },
      },
      { pauseGuest: true },
    );
    await attachedVolume(agent);
    expect(await running$(agent)).toBe('running');
    expect((await snapshotOnline(agent, S1, BASE, 'raw')).compute_snapshot_status).toBe('complete');
    expect(seen).toEqual(['after-stop:paused', 'after-overlay-added:paused', 'after-switch:paused']);
    expect(await running$(agent)).toBe('running');
    expect(hypervisorOf(agent).lastPauseMs).toBeGreaterThan(0);
    expect(await qemuActive(agent)).toBe(F1);
  });

  it.each(['after-stop', 'after-overlay-added', 'after-switch'] as const)('a failure %s: error callback, and the guest runs again', async (failAt) => {
    let agent!: RunningComputeAgent;
    agent = await startAgent(
      {
        whilePaused: async (step) => {
          if (step === failAt) throw new Error(`injected failure ${step}`);
        },
      },
      { pauseGuest: true },
    );
    await attachedVolume(agent);
    expect(await snapshotOnline(agent, S1, BASE, 'raw')).toEqual({ status: 'error', compute_snapshot_status: 'error' });
    expect(await running$(agent)).toBe('running');
    // Before the switch nothing changed; after it the guest is on the overlay and stays there.
    expect(await qemuActive(agent)).toBe(failAt === 'after-switch' ? F1 : BASE);
    await guestWrite(agent, 0x55, K64);
  });

  it('an agent that crashes while the guest is paused: the next agent finds the guest paused and resumes it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let paused!: () => void;
    const reachedPause = new Promise<void>((resolve) => (paused = resolve));
    const first = await startAgent(
      {
        whilePaused: async (step) => {
          if (step !== 'after-stop') return;
          paused();
          await held;
        },
      },
      { pauseGuest: true },
    );
    await attachedVolume(first);
    await createOverlay(share.dir, BASE, F1, 'raw', SIZE);
    await fetch(`${first.url}/os-assisted-volume-snapshots`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ snapshot: { volume_id: VOLUME, create_info: { snapshot_id: S1, type: 'qcow2', new_file: F1 } } }),
    });
    await reachedPause;
    expect(await running$(first)).toBe('paused');
    const pid = (await hypervisorOf(first).pidOf(SERVER))!;
    await first.crash();
    running.splice(running.indexOf(first), 1);

    const second = await startAgent({}, { pauseGuest: true });
    expect(await hypervisorOf(second).pidOf(SERVER)).toBe(pid);
    expect(await running$(second)).toBe('running');
    await guestWrite(second, 0x66, K64);
    // The first agent's operation, let go now, finds its QMP connection gone and ends.
    release();
    await first.idle();
  });
});

describe('QEMU mode: the pause is the storage side\'s decision, and its resume is guaranteed', () => {
  const status = async (agent: RunningComputeAgent) => (await (await hypervisorOf(agent).machineFor(SERVER)).status()).status;
  const resume = async (agent: RunningComputeAgent, volumeId = VOLUME) => {
    const res = await fetch(`${agent.url.replace(/\/v2\.1$/, '')}/agent/v1/volumes/${volumeId}/resume`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ resume: { snapshot_id: S1 } }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const createRequest = (agent: RunningComputeAgent, createInfo: Record<string, unknown>) =>
    fetch(`${agent.url}/os-assisted-volume-snapshots`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ snapshot: { volume_id: VOLUME, create_info: { snapshot_id: S1, type: 'qcow2', new_file: F1, ...createInfo } } }),
    });

  it.each([
    [true, false],
    [false, true],
  ])('create_info pause_guest %s overrides the agent\'s own setting (%s)', async (asked, agentDefault) => {
    const seen: string[] = [];
    const agent = await startAgent({ whilePaused: async (step) => void seen.push(step) }, { pauseGuest: agentDefault });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw', SIZE);
    const before = storage.callbacks.length;
    expect((await createRequest(agent, { pause_guest: asked })).status).toBe(200);
    expect((await storage.waitForCallbacks(before + 1))[before]!.body.compute_snapshot_status).toBe('complete');
    expect(seen.includes('after-stop')).toBe(asked);
    expect(await status(agent)).toBe('running');
  });

  it('a pause_guest that is not a boolean is refused with 400 before anything happens', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    const res = await createRequest(agent, { pause_guest: 'yes' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('pause_guest');
    expect(await status(agent)).toBe('running');
  });

  it('the storage side\'s resume runs (and thaws) a guest the agent paused while its create hangs; a second one and one for an unknown volume are no-ops', async () => {
    let reached!: () => void;
    const atPause = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const log = inShare('hooks.log');
    const agent = await startAgent(
      {
        whilePaused: async (step) => {
          if (step !== 'after-overlay-added') return;
          reached();
          await held;
        },
      },
      { hooks: logHooks(log) },
    );
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw', SIZE);
    const before = storage.callbacks.length;
    expect((await createRequest(agent, { pause_guest: true })).status).toBe(200);
    await atPause;
    expect(await status(agent)).toBe('paused');
    expect(await resume(agent)).toEqual({ status: 200, body: { resume: { volume_id: VOLUME, instance_id: SERVER, resumed: true } } });
    expect(await status(agent)).toBe('running');
    expect(await hooksRan(log)).toEqual(['freeze', 'thaw']);
    await guestWrite(agent, 0x77, K64);
    expect((await resume(agent)).body.resume.resumed).toBe(false);
    const unknown = '9f9f9f9f-0000-4000-8000-000000000009';
    expect((await resume(agent, unknown)).body).toEqual({ resume: { volume_id: unknown, instance_id: null, resumed: false } });
    // The hung create goes on: it switches and ends with its own (now harmless) cont.
    release();
    expect((await storage.waitForCallbacks(before + 1))[before]!.body.compute_snapshot_status).toBe('complete');
    expect(await status(agent)).toBe('running');
    expect(await qemuActive(agent)).toBe(F1);
    // Thawed once: the create's own way out found the thaw done.
    expect(await hooksRan(log)).toEqual(['freeze', 'thaw']);
  });

  it('refuses a resume body with unknown keys (400) and a bad volume id (404)', async () => {
    const agent = await startAgent();
    const base = agent.url.replace(/\/v2\.1$/, '');
    const bad = await fetch(`${base}/agent/v1/volumes/${VOLUME}/resume`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ resume: { x: 1 } }) });
    expect(bad.status).toBe(400);
    const notUuid = await fetch(`${base}/agent/v1/volumes/nope/resume`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ resume: {} }) });
    expect(notUuid.status).toBe(404);
  });

  it.each(['after-stop', 'after-overlay-added', 'after-switch'] as const)(
    'SIGKILL of the agent process %s: the guest stays paused until the next agent starts, which resumes it',
    async (holdAt) => {
      const hookLog = inShare('hooks.log');
      const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/paused-agent-child.ts'), storage.url, share.dir, holdAt, JSON.stringify(logHooks(hookLog))], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout! });
      const said = new Map<string, (rest: string) => void>();
      const heard = (word: string) => new Promise<string>((resolve) => said.set(word, resolve));
      const urlSaid = heard('url');
      const pausedSaid = heard('paused');
      lines.on('line', (line) => {
        const [word, ...rest] = line.split(' ');
        said.get(word!)?.(rest.join(' '));
      });
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        const url = await urlSaid;
        const remote = { url } as RunningComputeAgent;
        await attachedVolume(remote);
        await createOverlay(share.dir, BASE, F1, 'raw', SIZE);
        expect((await createRequest(remote, { pause_guest: true })).status).toBe(200);
        expect(await pausedSaid).toBe(holdAt);
      } finally {
        child.kill('SIGKILL');
        await gone;
      }
      // QEMU outlived the agent, paused (asked on its second monitor, as an operator would).
      const id = createHash('sha256').update(SERVER).digest('hex').slice(0, 16);
      const runDir = path.join(share.dir, AGENT_QEMU_RUN_DIR_NAME);
      const monitor = await QemuMachine.connect({ socketPath: path.join(runDir, `${id}.console.qmp`), pidFile: path.join(runDir, `${id}.pid`) });
      try {
        expect((await monitor.status()).status).toBe('paused');
      } finally {
        await monitor.disconnect();
      }
      expect(await hooksRan(hookLog)).toEqual(['freeze']);
      // The next agent (same share) finds it, resumes it, and runs the thaw the first one owed.
      const next = await startAgent({}, { hooks: logHooks(hookLog) });
      expect(await status(next)).toBe('running');
      expect(await hooksRan(hookLog)).toEqual(['freeze', 'thaw']);
      await guestWrite(next, 0x66, K64);
      expect(await qemuActive(next)).toBe(holdAt === 'after-switch' ? F1 : BASE);
    },
  );
});

/** Hooks that append "<name> <instance> <volume>" to `log`; `extraFreeze` runs after the append. */
function logHooks(log: string, extraFreeze = '') {
  return {
    freeze: `echo "freeze $INSTANCE_ID $VOLUME_ID" >> '${log}'${extraFreeze ? `; ${extraFreeze}` : ''}`,
    thaw: `echo "thaw $INSTANCE_ID $VOLUME_ID" >> '${log}'`,
    timeoutMs: 2000,
  };
}

/** The hooks that ran, in order; each must have named this instance and volume. */
async function hooksRan(log: string): Promise<string[]> {
  const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  for (const line of lines) expect(line.split(' ').slice(1)).toEqual([SERVER, VOLUME]);
  return lines.map((l) => l.split(' ')[0]!);
}

describe('QEMU mode: freeze/thaw hooks around the pause', () => {
  const status = async (agent: RunningComputeAgent) => (await (await hypervisorOf(agent).machineFor(SERVER)).status()).status;

  it('freeze before stop, thaw after cont, each once, with the instance and volume in their environment', async () => {
    const log = inShare('hooks.log');
    const seen: string[] = [];
    const agent = await startAgent({ whilePaused: async (step) => void seen.push(`${step}:${(await hooksRan(log)).join('+')}`) }, { pauseGuest: true, hooks: logHooks(log) });
    await attachedVolume(agent);
    expect((await snapshotOnline(agent, S1, BASE, 'raw')).compute_snapshot_status).toBe('complete');
    expect(seen).toEqual(['after-stop:freeze', 'after-overlay-added:freeze', 'after-switch:freeze']);
    expect(await hooksRan(log)).toEqual(['freeze', 'thaw']);
    expect(await status(agent)).toBe('running');
  });

  it.each(['after-stop', 'after-overlay-added', 'after-switch'] as const)('a failure %s: thaw runs once, the guest runs', async (failAt) => {
    const log = inShare('hooks.log');
    const agent = await startAgent(
      {
        whilePaused: async (step) => {
          if (step === failAt) throw new Error(`injected failure ${step}`);
        },
      },
      { pauseGuest: true, hooks: logHooks(log) },
    );
    await attachedVolume(agent);
    expect((await snapshotOnline(agent, S1, BASE, 'raw')).compute_snapshot_status).toBe('error');
    expect(await hooksRan(log)).toEqual(['freeze', 'thaw']);
    expect(await status(agent)).toBe('running');
  });

  it.each([
    ['fails', 'exit 3'],
    ['outlives its timeout', 'sleep 30'],
  ])('a freeze hook that %s: error callback, the guest never paused, thaw still runs', async (_name, extra) => {
    const log = inShare('hooks.log');
    const seen: string[] = [];
    const agent = await startAgent({ whilePaused: async (step) => void seen.push(step) }, { pauseGuest: true, hooks: { ...logHooks(log, extra), timeoutMs: 500 } });
    await attachedVolume(agent);
    expect((await snapshotOnline(agent, S1, BASE, 'raw')).compute_snapshot_status).toBe('error');
    expect(seen).toEqual([]);
    expect(await hooksRan(log)).toEqual(['freeze', 'thaw']);
    expect(await status(agent)).toBe('running');
    expect(await qemuActive(agent)).toBe(BASE);
  });
});
