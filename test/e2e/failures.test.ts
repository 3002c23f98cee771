// Issue 4, end to end: what happens when compute misbehaves, with the service and a compute agent
// started with a fault flag as separate processes. Each failure leaves the snapshot in a defined
// state whose history says why, and the volume usable: with a sound agent again, the next
// snapshot succeeds and the chain and data are right. One service serves every test (each has
// its own volume); each test starts its own agents on the service's compute port.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptedPath,
  activeFile,
  Cloud,
  freePort,
  removeScratch,
  scratchDir,
  startAgent,
  startService,
  verifyVolume,
  volumeFiles,
  writeGeneration,
  type AgentFault,
  type LoggedProcess,
  type ServiceProcess,
  type Transition,
  type VolumeModel,
} from '../support/e2e.js';

/** Short enough to wait out in a test, long enough for a sound create or delete on a busy machine. */
const WAIT_CREATE_SECONDS = 3;
const WAIT_DELETE_SECONDS = 3;

const CREATE_PATH = [
  '- -> creating.storageBegin (snapshot.create/api)',
  'creating.storageBegin -> creating.computeAssisted (storage.done/driver)',
  'creating.computeAssisted -> creating.storageComplete (compute.status/compute)',
  'creating.storageComplete -> available (storage.done/driver)',
];
const FAILED_CREATE_PREFIX = CREATE_PATH.slice(0, 2);

const root = path.join(import.meta.dirname, '..', '..');

let service: ServiceProcess;
let dir: string;
let share: string;
let agentPort: number;
let cloud: Cloud;

beforeAll(async () => {
  dir = scratchDir('failures');
  share = `${dir}/share`;
  agentPort = await freePort();
  service = await startService({
    share,
    agentPort,
    env: {
      COMPUTE_WAIT_CREATE_SECONDS: String(WAIT_CREATE_SECONDS),
      COMPUTE_WAIT_DELETE_SECONDS: String(WAIT_DELETE_SECONDS),
      // The agent's status extension, read as evidence when a snapshot is reconciled.
      COMPUTE_AGENT_STATUS_URL: `http://127.0.0.1:${agentPort}`,
    },
  });
  cloud = new Cloud(service, agentPort);
});
afterAll(async () => {
  if (service) expect(await service.stop()).toBe(0);
  removeScratch(dir);
});

const agentWith = (faults: AgentFault[] = []) => startAgent({ port: agentPort, share, servicePort: service.port, faults });

async function write(model: VolumeModel) {
  await writeGeneration(share, await activeFile(share, model.volumeId), ++model.writes);
}

/** With `faulty` running: a new attached volume, one write, one snapshot request. */
async function snapshotUnder(faulty: LoggedProcess) {
  const volumeId = await cloud.createVolume('faulty');
  await cloud.attach(randomUUID(), volumeId);
  const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: true };
  await write(model);
  const id = await cloud.requestSnapshot(volumeId, 'under-fault');
  expect(faulty.child.exitCode).toBeNull();
  return { model, id };
}

/** The accepted row that put the snapshot in its failure state. */
const failureRow = (history: Transition[]) => history.filter((t) => !t.rejected).at(-1)!;

/**
 * After a failed create, with a sound agent: the volume takes the next snapshot, the failed one's
 * overlay (if still there) never entered .info or the chain, and the failed snapshot deletes
 * without compute, taking its overlay with it.
 */
async function stillUsable(model: VolumeModel, failedId: string) {
  const agent = await agentWith();
  try {
    expect(await cloud.volumeStatus(model.volumeId)).toBe('in-use');
    await verifyVolume(share, model, [`volume-${model.volumeId}.${failedId}`]);
    await write(model);
    const next = await cloud.snapshot(model.volumeId, 'after-the-fault');
    expect(next.phase).toBe('available');
    expect(acceptedPath(await cloud.transitions(next.id))).toEqual(CREATE_PATH);
    model.snapshots.push({ id: next.id, writes: model.writes });
    await write(model);
    await verifyVolume(share, model, [`volume-${model.volumeId}.${failedId}`]);

    expect(await cloud.deleteSnapshot(failedId)).toBe('deleted');
    expect(acceptedPath(await cloud.transitions(failedId)).slice(-3)).toEqual([
      'error -> deleting.storageBegin (snapshot.delete/api)',
      'deleting.storageBegin -> deleting.storageComplete (storage.done/driver)',
      'deleting.storageComplete -> deleted (storage.done/driver)',
    ]);
    // The failed create's overlay went with its snapshot: nothing of it is left in the share.
    await verifyVolume(share, model);
    expect(await cloud.snapshotStatuses(model.volumeId)).toEqual(Object.fromEntries(model.snapshots.map((s) => [s.id, 'available'])));
  } finally {
    expect(await agent.stop()).toBe(0);
  }
}

describe('compute failures', () => {
  it('compute refuses the request (400): error, compute_refused with Nova\'s message', async () => {
    const faulty = await agentWith(['refuse-requests']);
    let failed: { model: VolumeModel; id: string };
    try {
      failed = await snapshotUnder(faulty);
      expect((await service.settled(failed.id, ['available', 'error'])).phase).toBe('error');
    } finally {
      expect(await faulty.stop()).toBe(0);
    }
    expect((await cloud.snapshotView(failed.id)).status).toBe('error');
    const history = await cloud.transitions(failed.id);
    expect(acceptedPath(history)).toEqual([...FAILED_CREATE_PREFIX, 'creating.computeAssisted -> error (compute.failed/compute)']);
    const row = failureRow(history);
    expect(row.reason).toMatch(/^compute_refused: compute refused the create request: 400 The compute service refused the request/);
    expect(row.payload).toMatchObject({ phase: 'creating.computeAssisted', reason: expect.stringContaining('400') });
    // The agent answered 400 and never started a live part.
    expect(faulty.lines.some((l) => l.msg === 'switched the active file')).toBe(false);
    await stillUsable(failed.model, failed.id);
  });

  it('compute never acted (hung before its live part): after the deadline, reconciled to error; the overlay is gone, .info unchanged', async () => {
    // A first snapshot with a sound compute, so that .info exists and its bytes can be compared.
    const volumeId = await cloud.createVolume('hung');
    const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: true };
    const sound = await agentWith();
    try {
      await cloud.attach(randomUUID(), volumeId);
      await write(model);
      const first = await cloud.snapshot(volumeId, 'before-the-hang');
      expect(first.phase).toBe('available');
      model.snapshots.push({ id: first.id, writes: model.writes });
    } finally {
      expect(await sound.stop()).toBe(0);
    }
    const infoBefore = await readFile(path.join(share, `volume-${volumeId}.info`));
    const hung = await agentWith(['hang-live-part']);
    let failed: { model: VolumeModel; id: string };
    try {
      const id = await cloud.requestSnapshot(volumeId, 'under-fault');
      failed = { model, id };
      // The deadline is swept by the service's runner, then the driver reconciles: its verdict settles it.
      const settled = await service.settled(id, ['available', 'error']);
      expect(settled).toMatchObject({ fromPhase: 'creating.reconciling', phase: 'error', status: 'error', event: 'storage.reconciled', source: 'driver' });
    } finally {
      // A hung compute host does not drain: it is taken down.
      await hung.kill();
    }
    const history = await cloud.transitions(failed.id);
    expect(acceptedPath(history)).toEqual([
      ...FAILED_CREATE_PREFIX,
      'creating.computeAssisted -> creating.reconciling (timer.expired/timer)',
      'creating.reconciling -> error (storage.reconciled/driver)',
    ]);
    const overlay = `volume-${failed.model.volumeId}.${failed.id}`;
    const row = failureRow(history);
    expect(row.reason).toMatch(new RegExp(`^compute_timeout_rolled_back: ${overlay} was never used \\(.*compute has volume-${failed.model.volumeId}\\.${failed.model.snapshots[0]!.id} open\\); removed it, \\.info unchanged$`));
    expect(row.payload).toMatchObject({ phase: 'creating.reconciling', verdict: 'rolled_back', evidence: { removed: overlay, compute: { active_file: `volume-${failed.model.volumeId}.${failed.model.snapshots[0]!.id}` } } });
    expect(await cloud.adminMetadata(failed.id)).toMatchObject({ reconcile_verdict: 'rolled_back' });
    // Not before the deadline: from entering the compute phase to the timeout.
    const entered = history.find((t) => t.to_phase === 'creating.computeAssisted')!;
    const expired = history.find((t) => t.to_phase === 'creating.reconciling')!;
    expect(Date.parse(expired.created_at) - Date.parse(entered.created_at)).toBeGreaterThanOrEqual(WAIT_CREATE_SECONDS * 1000 - 5);
    expect((await cloud.snapshotView(failed.id)).status).toBe('error');
    // The overlay is gone and .info is byte for byte what it was before the request.
    expect(await volumeFiles(share, failed.model.volumeId)).not.toContain(overlay);
    expect(await readFile(path.join(share, `volume-${failed.model.volumeId}.info`))).toEqual(infoBefore);
    await stillUsable(failed.model, failed.id);
  });

  it('compute reports an error from the live part: error, compute_error', async () => {
    const faulty = await agentWith(['fail-live-part']);
    let failed: { model: VolumeModel; id: string };
    try {
      failed = await snapshotUnder(faulty);
      expect((await service.settled(failed.id, ['available', 'error'])).phase).toBe('error');
    } finally {
      expect(await faulty.stop()).toBe(0);
    }
    const history = await cloud.transitions(failed.id);
    expect(acceptedPath(history)).toEqual([...FAILED_CREATE_PREFIX, 'creating.computeAssisted -> error (compute.status/compute)']);
    const row = failureRow(history);
    expect(row.reason).toBe('compute_error');
    expect(row.payload).toEqual({ status: 'error', computeStatus: 'error' });
    expect(await cloud.adminMetadata(failed.id)).toMatchObject({ compute_snapshot_status: 'error' });
    expect((await cloud.snapshotView(failed.id)).status).toBe('error');
    await stillUsable(failed.model, failed.id);
  });

  it('a lost callback is retried: available, with exactly one accepted compute.status', async () => {
    const faulty = await agentWith(['drop-callbacks=1']);
    try {
      const volumeId = await cloud.createVolume('lossy');
      await cloud.attach(randomUUID(), volumeId);
      const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: true };
      await write(model);
      const { id, phase } = await cloud.snapshot(volumeId, 'lossy');
      expect(phase).toBe('available');
      model.snapshots.push({ id, writes: model.writes });
      // The first attempt was lost on the way, the second delivered it.
      const lost = await faulty.waitFor((l) => l.msg === 'snapshot status callback lost (fault injection)' && l.snapshotId === id, 'the lost callback');
      const acked = await faulty.waitFor((l) => l.msg === 'snapshot status callback acknowledged' && l.snapshotId === id, 'the acknowledged callback');
      expect([lost.attempt, acked.attempt]).toEqual([1, 2]);
      const history = await cloud.transitions(id);
      expect(acceptedPath(history)).toEqual(CREATE_PATH);
      expect(history.filter((t) => t.event === 'compute.status').map((t) => [t.rejected, t.source])).toEqual([[false, 'compute']]);
      expect(await cloud.adminMetadata(id)).toMatchObject({ compute_snapshot_status: 'complete' });
      await write(model);
      await verifyVolume(share, model);
      // And the next snapshot of the volume goes through as usual.
      const next = await cloud.snapshot(volumeId, 'after');
      expect(next.phase).toBe('available');
      model.snapshots.push({ id: next.id, writes: model.writes });
      await verifyVolume(share, model);
    } finally {
      expect(await faulty.stop()).toBe(0);
    }
  });
  it('lost callback on create: compute did its part but never called back; reconciled to available with the evidence in its history', async () => {
    const silent = await agentWith(['never-call-back']);
    const volumeId = await cloud.createVolume('silent-create');
    const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: true };
    let id: string;
    try {
      await cloud.attach(randomUUID(), volumeId);
      await write(model);
      id = await cloud.requestSnapshot(volumeId, 'silent');
      const switched = await silent.waitFor((l) => l.msg === 'switched the active file' && l.snapshotId === id, 'the live part');
      await silent.waitFor((l) => l.msg === 'not calling the storage service back (fault injection)' && l.snapshotId === id, 'the dropped callback');
      // The instance writes to the new overlay from now on, before anyone on the storage side knows.
      model.snapshots.push({ id, writes: model.writes });
      await writeGeneration(share, switched.to as string, ++model.writes);
      expect((await service.settled(id, ['available', 'error'])).phase).toBe('available');
    } finally {
      expect(await silent.stop()).toBe(0);
    }
    const history = await cloud.transitions(id);
    expect(acceptedPath(history)).toEqual([
      ...FAILED_CREATE_PREFIX,
      'creating.computeAssisted -> creating.reconciling (timer.expired/timer)',
      'creating.reconciling -> creating.storageComplete (storage.reconciled/driver)',
      'creating.storageComplete -> available (storage.done/driver)',
    ]);
    expect(history.filter((t) => t.event === 'compute.status')).toEqual([]);
    const overlay = `volume-${volumeId}.${id}`;
    const verdict = history.find((t) => t.event === 'storage.reconciled')!;
    expect(verdict.payload).toMatchObject({
      verdict: 'in_use',
      evidence: { overlay, info_active: `volume-${volumeId}`, chain: [overlay, `volume-${volumeId}`], compute: { active_file: overlay } },
    });
    expect(verdict.payload!.reason).toMatch(new RegExp(`^${overlay} is the file the instance writes to: .*compute has ${overlay} open`));
    const admin = await cloud.adminMetadata(id);
    expect(admin.reconcile_verdict).toBe('in_use');
    expect(JSON.parse(admin.reconcile_evidence!)).toMatchObject({ compute: { active_file: overlay } });
    // Data read back with qemu-io: the snapshot below the overlay, every write through the chain.
    await verifyVolume(share, model);
    await mkdir(path.join(root, 'test-results'), { recursive: true });
    await writeFile(path.join(root, 'test-results', 'reconciled-snapshot-history.json'), `${JSON.stringify(history, null, 2)}\n`);

    // And the volume goes on as usual with a sound compute.
    const sound = await agentWith();
    try {
      await write(model);
      const next = await cloud.snapshot(volumeId, 'after');
      expect(next.phase).toBe('available');
      model.snapshots.push({ id: next.id, writes: model.writes });
      await verifyVolume(share, model);
    } finally {
      expect(await sound.stop()).toBe(0);
    }
  });

  it('lost callback on delete: compute merged but never called back; reconciled to deleted, the data intact', async () => {
    const sound = await agentWith();
    const volumeId = await cloud.createVolume('silent-delete');
    const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: true };
    try {
      await cloud.attach(randomUUID(), volumeId);
      for (const name of ['one', 'two']) {
        await write(model);
        const s = await cloud.snapshot(volumeId, name);
        expect(s.phase).toBe('available');
        model.snapshots.push({ id: s.id, writes: model.writes });
      }
      await write(model);
    } finally {
      expect(await sound.stop()).toBe(0);
    }
    const silent = await agentWith(['never-call-back']);
    const older = model.snapshots[0]!.id;
    try {
      await cloud.requestDelete(older);
      await silent.waitFor((l) => l.msg === 'merged the snapshot' && l.snapshotId === older, 'the merge');
      await silent.waitFor((l) => l.msg === 'not calling the storage service back (fault injection)' && l.snapshotId === older, 'the dropped callback');
      expect((await service.settled(older, ['deleted', 'error_deleting'])).phase).toBe('deleted');
    } finally {
      expect(await silent.stop()).toBe(0);
    }
    const history = await cloud.transitions(older);
    expect(acceptedPath(history).slice(-5)).toEqual([
      'available -> deleting.storageBegin (snapshot.delete/api)',
      'deleting.storageBegin -> deleting.computeAssisted (storage.done/driver)',
      'deleting.computeAssisted -> deleting.reconciling (timer.expired/timer)',
      'deleting.reconciling -> deleting.storageComplete (storage.reconciled/driver)',
      'deleting.storageComplete -> deleted (storage.done/driver)',
    ]);
    const verdict = history.find((t) => t.event === 'storage.reconciled')!;
    expect(verdict.payload).toMatchObject({ verdict: 'merged', evidence: { plan: { mode: 'commit', file_to_delete: `volume-${volumeId}.${older}` } } });
    expect(verdict.payload!.reason).toMatch(/^the chain shows the merge done: /);
    model.snapshots.shift();
    await verifyVolume(share, model);
  });
});
