// The agent's live part on real qcow2 chains in a temporary share, with a real HTTP receiver
// standing in for the storage API. Chains are built the way the storage side builds them;
// data is written and read back with qemu-io patterns to show nothing was lost by a merge.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startComputeAgent, type ComputeAgentOptions, type RunningComputeAgent } from '../../../src/compute/agent/server.js';
import type { SnapshotOperation } from '../../../src/compute/agent/types.js';
import { AGENT_STATE_FILE_NAME } from '../../../src/contracts/compute-agent-files.js';
import { startFakeStorage, type FakeStorage } from '../../support/fake-storage.js';
import { qemuImgBacking, qemuIoReads, qemuIoWrite } from '../../support/qemu.js';
import { createOverlay, createVolumeFile, makeShare } from '../../support/qemu-agent.js';

const SERVER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const VOLUME = '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a';
const S1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const S2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const BASE = `volume-${VOLUME}`;
const F1 = `${BASE}.${S1}`;
const F2 = `${BASE}.${S2}`;
const K64 = 64 * 1024;

let storage: FakeStorage;
let share: { dir: string; remove: () => Promise<void> };
let sleeps: number[];
const running: RunningComputeAgent[] = [];

const inShare = (name: string) => path.join(share.dir, name);
const writePattern = (name: string, pattern: number, offset: number, length: number) => qemuIoWrite(inShare(name), pattern, offset, length);
const hasPattern = (name: string, pattern: number, offset: number, length: number) => qemuIoReads(inShare(name), pattern, offset, length);
const backingOf = async (name: string) => (await qemuImgBacking(inShare(name))) ?? undefined;

beforeEach(async () => {
  storage = await startFakeStorage();
  share = await makeShare();
  sleeps = [];
});
afterEach(async () => {
  while (running.length) await running.pop()!.close();
  await storage.close();
  await share.remove();
});

async function startAgent(extra: Partial<ComputeAgentOptions> = {}): Promise<RunningComputeAgent> {
  const agent = await startComputeAgent({
    port: 0,
    storageUrl: storage.url,
    tokenProvider: async () => 'nova:service',
    shareDir: share.dir,
    logger: pino({ level: 'silent' }),
    ...extra,
    callbackRetry: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...extra.callbackRetry,
    },
  });
  running.push(agent);
  return agent;
}

/** A raw volume with 0x11 in its first 64 KiB, attached to SERVER through the agent. */
async function attachedVolume(agent: RunningComputeAgent, format: 'raw' | 'qcow2' = 'raw'): Promise<void> {
  await createVolumeFile(share.dir, BASE, format);
  await writePattern(BASE, 0x11, 0, K64);
  storage.volumes.set(VOLUME, { name: BASE, format });
  const res = await fetch(`${agent.url}/servers/${SERVER}/os-volume_attachments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ volumeAttachment: { volumeId: VOLUME } }),
  });
  expect(res.status).toBe(200);
}

async function requestCreate(agent: RunningComputeAgent, snapshotId: string, newFile: string): Promise<Response> {
  return fetch(`${agent.url}/os-assisted-volume-snapshots`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ snapshot: { volume_id: VOLUME, create_info: { snapshot_id: snapshotId, type: 'qcow2', new_file: newFile } } }),
  });
}

async function requestDelete(agent: RunningComputeAgent, snapshotId: string, fileToMerge: string | null, mergeTarget: string | null): Promise<Response> {
  const info = { type: 'qcow2', volume_id: VOLUME, file_to_merge: fileToMerge, merge_target_file: mergeTarget };
  return fetch(`${agent.url}/os-assisted-volume-snapshots/${snapshotId}?delete_info=${encodeURIComponent(JSON.stringify(info))}`, {
    method: 'DELETE',
  });
}

async function activeFile(): Promise<string> {
  const state = JSON.parse(await readFile(path.join(share.dir, AGENT_STATE_FILE_NAME), 'utf8'));
  return state.instances[SERVER][VOLUME].activeFile;
}

/** Storage side's create for an attached volume, then compute's part through the agent. */
async function snapshotOnline(agent: RunningComputeAgent, snapshotId: string, backing: string, backingFormat: 'raw' | 'qcow2'): Promise<string> {
  const file = await createOverlay(share.dir, backing, `${BASE}.${snapshotId}`, backingFormat);
  const before = storage.callbacks.length;
  expect((await requestCreate(agent, snapshotId, file)).status).toBe(200);
  const callbacks = await storage.waitForCallbacks(before + 1);
  expect(callbacks[before]!.body.status).toBe('creating');
  return file;
}

const COMPLETE_CREATE = { status: 'creating', progress: '90%', compute_snapshot_status: 'complete', compute_progress: '100%' };
const COMPLETE_DELETE = { status: 'deleting', progress: '90%', compute_snapshot_status: 'complete', compute_progress: '100%' };

describe('create', () => {
  it('switches the active file to a new_file backed by the current one, then calls back', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    const file = await createOverlay(share.dir, BASE, F1, 'raw');
    const res = await requestCreate(agent, S1, file);
    expect(res.status).toBe(200);

    const [callback] = await storage.waitForCallbacks(1);
    expect(callback!.snapshotId).toBe(S1);
    expect(callback!.body).toEqual(COMPLETE_CREATE);
    expect(callback!.headers['x-auth-token']).toBe('nova:service');
    expect(callback!.headers['openstack-api-version']).toBe('volume 3.0');
    expect(callback!.headers['content-type']).toBe('application/json');
    expect(await activeFile()).toBe(F1);

    // The next snapshot is validated against the new active file.
    await snapshotOnline(agent, S2, F1, 'qcow2');
    expect(await activeFile()).toBe(F2);
    expect(storage.callbacks[1]!.body).toEqual(COMPLETE_CREATE);
  });

  it('refuses a new_file that is not backed by the active file: error callback, nothing switched', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    // Built on F1, while the instance still has BASE open.
    await createOverlay(share.dir, F1, F2, 'qcow2');
    expect((await requestCreate(agent, S2, F2)).status).toBe(200);
    const [callback] = await storage.waitForCallbacks(1);
    expect(callback!.body).toEqual({ status: 'error', compute_snapshot_status: 'error' });
    expect(await activeFile()).toBe(BASE);
  });

  it('reports an error for a new_file that is not in the share, or that points outside it', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    await requestCreate(agent, S1, F1);
    await requestCreate(agent, S2, '../etc/passwd');
    const callbacks = await storage.waitForCallbacks(2);
    expect(callbacks.map((c) => c.body.status)).toEqual(['error', 'error']);
    expect(await activeFile()).toBe(BASE);
  });

  it('answers before the live part runs, and runs it only when released', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived!: (op: SnapshotOperation) => void;
    const reached = new Promise<SnapshotOperation>((resolve) => (arrived = resolve));
    const agent = await startAgent({
      faults: {
        beforeLivePart: async (op) => {
          arrived(op);
          await gate;
        },
      },
    });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    expect((await requestCreate(agent, S1, F1)).status).toBe(200);
    expect(await reached).toEqual({ kind: 'create', snapshotId: S1, volumeId: VOLUME, instanceId: SERVER });
    expect(await activeFile()).toBe(BASE);
    expect(storage.callbacks).toEqual([]);
    release();
    await agent.idle();
    expect(await activeFile()).toBe(F1);
    expect(storage.callbacks).toHaveLength(1);
  });

  it('reports a failed live part as error and leaves the files alone', async () => {
    const agent = await startAgent({ faults: { failLivePart: (op) => op.kind === 'create' } });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    await requestCreate(agent, S1, F1);
    const [callback] = await storage.waitForCallbacks(1);
    expect(callback!.body).toEqual({ status: 'error', compute_snapshot_status: 'error' });
    expect(await activeFile()).toBe(BASE);
  });

  it('answers a repeated create with the earlier outcome instead of redoing it', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    await snapshotOnline(agent, S1, BASE, 'raw');
    expect((await requestCreate(agent, S1, F1)).status).toBe(200);
    const callbacks = await storage.waitForCallbacks(2);
    expect(callbacks[1]!.body).toEqual(COMPLETE_CREATE);
    expect(await activeFile()).toBe(F1);
  });

  it('still knows the active file after a restart', async () => {
    const first = await startAgent();
    await attachedVolume(first);
    await snapshotOnline(first, S1, BASE, 'raw');
    await first.close();
    running.splice(running.indexOf(first), 1);

    const second = await startAgent();
    await snapshotOnline(second, S2, F1, 'qcow2');
    expect(await activeFile()).toBe(F2);
  });
});

describe('delete (libvirt decision table)', () => {
  /** BASE(0x11 @0) <- F1(0x22 @64k) <- F2(0x33 @128k), F2 active. */
  async function twoSnapshots(agent: RunningComputeAgent, baseFormat: 'raw' | 'qcow2' = 'raw'): Promise<void> {
    await attachedVolume(agent, baseFormat);
    await snapshotOnline(agent, S1, BASE, baseFormat);
    await writePattern(F1, 0x22, K64, K64);
    await snapshotOnline(agent, S2, F1, 'qcow2');
    await writePattern(F2, 0x33, 2 * K64, K64);
  }

  async function allDataReadable(file: string): Promise<void> {
    expect(await hasPattern(file, 0x11, 0, K64)).toBe(true);
    expect(await hasPattern(file, 0x22, K64, K64)).toBe(true);
    expect(await hasPattern(file, 0x33, 2 * K64, K64)).toBe(true);
  }

  it.each(['raw', 'qcow2'] as const)('merge_target_file set: commits file_to_merge into it and repoints the overlay above (%s base)', async (format) => {
    const agent = await startAgent();
    await twoSnapshots(agent, format);
    // Deleting S1 whose file is not active: Cinder sends file_to_merge=F1, merge_target_file=BASE.
    expect((await requestDelete(agent, S1, F1, BASE)).status).toBe(204);
    const callbacks = await storage.waitForCallbacks(3);
    expect(callbacks[2]).toMatchObject({ snapshotId: S1, body: COMPLETE_DELETE });

    expect(await activeFile()).toBe(F2);
    expect(await backingOf(F2)).toBe(BASE);
    expect(await hasPattern(BASE, 0x22, K64, K64)).toBe(true);
    // The storage side removes the merged file afterwards; nothing may depend on it any more.
    await rm(path.join(share.dir, F1));
    await allDataReadable(F2);
  });

  it.each(['raw', 'qcow2'] as const)('merge_target_file null, file_to_merge set: pulls the data above the new base into the active file (%s base)', async (format) => {
    const agent = await startAgent();
    await twoSnapshots(agent, format);
    // Deleting S2 whose file is active: Cinder sends file_to_merge = backing of F1 (BASE).
    expect((await requestDelete(agent, S2, BASE, null)).status).toBe(204);
    const callbacks = await storage.waitForCallbacks(3);
    expect(callbacks[2]).toMatchObject({ snapshotId: S2, body: COMPLETE_DELETE });

    expect(await activeFile()).toBe(F2);
    expect(await backingOf(F2)).toBe(BASE);
    await rm(path.join(share.dir, F1));
    await allDataReadable(F2);
  });

  it('both null: pulls everything into the active file, which then stands alone', async () => {
    const agent = await startAgent();
    await attachedVolume(agent);
    await snapshotOnline(agent, S1, BASE, 'raw');
    await writePattern(F1, 0x22, K64, K64);
    expect((await requestDelete(agent, S1, null, null)).status).toBe(204);
    const callbacks = await storage.waitForCallbacks(2);
    expect(callbacks[1]!.body).toEqual(COMPLETE_DELETE);

    expect(await backingOf(F1)).toBeUndefined();
    await rm(path.join(share.dir, BASE));
    expect(await hasPattern(F1, 0x11, 0, K64)).toBe(true);
    expect(await hasPattern(F1, 0x22, K64, K64)).toBe(true);
  });

  it('refuses to commit the active layer (Nova does not pass the ACTIVE flag): error_deleting', async () => {
    const agent = await startAgent();
    await twoSnapshots(agent);
    await requestDelete(agent, S2, F2, F1);
    const callbacks = await storage.waitForCallbacks(3);
    expect(callbacks[2]!.body).toEqual({ status: 'error_deleting', compute_snapshot_status: 'error' });
    await allDataReadable(F2);
    expect(await backingOf(F2)).toBe(F1);
  });

  it('reports error_deleting for a file that is not in the chain', async () => {
    const agent = await startAgent();
    await twoSnapshots(agent);
    await requestDelete(agent, S1, `${BASE}.nope`, BASE);
    const callbacks = await storage.waitForCallbacks(3);
    expect(callbacks[2]!.body.status).toBe('error_deleting');
  });
});

describe('callback forms and delivery', () => {
  it('legacy mode sends exactly what an unmodified Nova sends', async () => {
    const agent = await startAgent({ legacy: true });
    await attachedVolume(agent);
    await snapshotOnline(agent, S1, BASE, 'raw');
    await requestCreate(agent, S2, `${BASE}.missing`);
    await requestDelete(agent, S1, null, null);
    await requestDelete(agent, S2, 'not-in-chain', null);
    const callbacks = await storage.waitForCallbacks(4);
    expect(callbacks.map((c) => c.body)).toEqual([
      { status: 'creating', progress: '90%' },
      { status: 'error', progress: '90%' },
      { status: 'deleting', progress: '90%' },
      { status: 'error_deleting', progress: '90%' },
    ]);
  });

  it('a lost callback is delivered by the retry', async () => {
    const agent = await startAgent({ faults: { dropCallbacks: 1 }, callbackRetry: { baseDelayMs: 40 } });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    await requestCreate(agent, S1, F1);
    await agent.idle();
    expect(storage.callbacks.map((c) => c.body)).toEqual([COMPLETE_CREATE]);
    expect(storage.requests.filter((r) => r.path.includes('/snapshots/'))).toHaveLength(1);
    expect(sleeps).toEqual([40]);
  });

  it('retries a callback the storage service did not acknowledge, with exponential backoff', async () => {
    storage.callbackAnswers.push({ status: 503 }, { status: 500 });
    const agent = await startAgent({ callbackRetry: { baseDelayMs: 10, maxDelayMs: 15 } });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    await requestCreate(agent, S1, F1);
    await agent.idle();
    expect(storage.requests.filter((r) => r.path.includes('/snapshots/'))).toHaveLength(3);
    expect(storage.callbacks).toHaveLength(1);
    expect(sleeps).toEqual([10, 15]);
  });

  it('takes a 400 as final, and gives up after the configured attempts otherwise', async () => {
    storage.callbackAnswers.push({ status: 400, body: { badRequest: { code: 400, message: 'Snapshot status available not allowed for update_snapshot_status' } } });
    const agent = await startAgent({ callbackRetry: { attempts: 3, baseDelayMs: 1 } });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    await requestCreate(agent, S1, F1);
    await agent.idle();
    expect(storage.requests.filter((r) => r.path.includes('/snapshots/'))).toHaveLength(1);
    expect(sleeps).toEqual([]);

    storage.callbackAnswers.push({ status: 500 }, { status: 500 }, { status: 500 });
    await requestDelete(agent, S1, null, null);
    await agent.idle();
    expect(storage.requests.filter((r) => r.path.includes('/snapshots/'))).toHaveLength(4);
    expect(storage.callbacks).toHaveLength(0);
    expect(sleeps).toEqual([1, 2]);
  });

  it('never calls back when told not to, though the live part runs', async () => {
    const agent = await startAgent({ faults: { neverCallBack: true } });
    await attachedVolume(agent);
    await createOverlay(share.dir, BASE, F1, 'raw');
    expect((await requestCreate(agent, S1, F1)).status).toBe(200);
    await agent.idle();
    expect(await activeFile()).toBe(F1);
    expect(storage.requests.filter((r) => r.path.includes('/snapshots/'))).toHaveLength(0);
  });
});
