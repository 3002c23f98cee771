// Issue 4, end to end: what happens when compute misbehaves, with the service and a compute agent
// started with a fault flag as separate processes. Each failure leaves the snapshot in a defined
// state whose history says why, and the volume usable: with a sound agent again, the next
// snapshot succeeds and the chain and data are right. One service serves every test (each has
// its own volume); each test starts its own agents on the service's compute port.
import { randomUUID } from 'node:crypto';
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
  writeGeneration,
  type AgentFault,
  type LoggedProcess,
  type ServiceProcess,
  type Transition,
  type VolumeModel,
} from '../support/e2e.js';

/** Short enough to wait out in a test, long enough for a sound create on a busy machine. */
const WAIT_CREATE_SECONDS = 3;

const CREATE_PATH = [
  '- -> creating.storageBegin (snapshot.create/api)',
  'creating.storageBegin -> creating.computeAssisted (storage.done/driver)',
  'creating.computeAssisted -> creating.storageComplete (compute.status/compute)',
  'creating.storageComplete -> available (storage.done/driver)',
];
const FAILED_CREATE_PREFIX = CREATE_PATH.slice(0, 2);

let service: ServiceProcess;
let dir: string;
let share: string;
let agentPort: number;
let cloud: Cloud;

beforeAll(async () => {
  dir = scratchDir('failures');
  share = `${dir}/share`;
  agentPort = await freePort();
  service = await startService({ share, agentPort, env: { COMPUTE_WAIT_CREATE_SECONDS: String(WAIT_CREATE_SECONDS) } });
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
 * overlay never entered .info or the chain, and the failed snapshot deletes without compute.
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
    await verifyVolume(share, model, [`volume-${model.volumeId}.${failedId}`]);
    expect(await cloud.snapshotStatuses(model.volumeId)).toEqual({ [next.id]: 'available' });
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

  it('compute never answers: the deadline puts the snapshot in error, compute_timeout', async () => {
    const hung = await agentWith(['hang-live-part']);
    let failed: { model: VolumeModel; id: string };
    try {
      failed = await snapshotUnder(hung);
      // The deadline is swept by the service's runner; its transition is the line to wait for.
      const timedOut = await service.waitFor(
        (l) => l.msg === 'snapshot transition' && l.snapshotId === failed.id && l.event === 'timer.expired',
        `the compute deadline of ${failed.id}`,
      );
      expect(timedOut).toMatchObject({ fromPhase: 'creating.computeAssisted', phase: 'error', status: 'error', source: 'timer' });
    } finally {
      // A hung compute host does not drain: it is taken down.
      await hung.kill();
    }
    const history = await cloud.transitions(failed.id);
    expect(acceptedPath(history)).toEqual([...FAILED_CREATE_PREFIX, 'creating.computeAssisted -> error (timer.expired/timer)']);
    expect(failureRow(history).reason).toBe('compute_timeout');
    // Not before the deadline: from entering the compute phase to the timeout.
    const entered = history.find((t) => t.to_phase === 'creating.computeAssisted')!;
    const waited = Date.parse(failureRow(history).created_at) - Date.parse(entered.created_at);
    expect(waited).toBeGreaterThanOrEqual(WAIT_CREATE_SECONDS * 1000 - 5);
    expect((await cloud.snapshotView(failed.id)).status).toBe('error');
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
});
