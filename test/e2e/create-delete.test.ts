// Issue 4, end to end: snapshots created and deleted through the service and the compute agent
// running as separate processes, on real qcow2 files and real HTTP. Online (attached volume)
// with both callback forms: the agent's default (compute_snapshot_status + compute_progress)
// and, with --legacy, what an unmodified Nova sends (the unchanged status with progress "90%");
// then offline (detached volume), where the driver does everything in one phase. One service
// serves the whole file; each form starts its own agent on the service's compute port.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptedPath,
  activeFile,
  Cloud,
  freePort,
  HttpError,
  removeScratch,
  scratchDir,
  startAgent,
  startService,
  verifyVolume,
  writeGeneration,
  type LoggedProcess,
  type ServiceProcess,
  type Transition,
  type VolumeModel,
} from '../support/e2e.js';

const CREATE_PATH = [
  '- -> creating.storageBegin (snapshot.create/api)',
  'creating.storageBegin -> creating.computeAssisted (storage.done/driver)',
  'creating.computeAssisted -> creating.storageComplete (compute.status/compute)',
  'creating.storageComplete -> available (storage.done/driver)',
];
const DELETE_PATH = [
  'available -> deleting.storageBegin (snapshot.delete/api)',
  'deleting.storageBegin -> deleting.computeAssisted (storage.done/driver)',
  'deleting.computeAssisted -> deleting.storageComplete (compute.status/compute)',
  'deleting.storageComplete -> deleted (storage.done/driver)',
];

const forms = [
  {
    form: 'new',
    legacy: false,
    // Which snapshots (1-based, by age) to delete, in order: middle, last, first.
    order: [2, 3, 1],
    callback: (status: string) => ({ status, progress: '90%', computeStatus: 'complete', computeProgress: '100%' }),
    adminMetadata: { compute_snapshot_status: 'complete', compute_progress: '100%' },
  },
  {
    form: 'legacy',
    legacy: true,
    // First, last, middle: together with the other form every delete plan runs (commit, pull
    // onto a snapshot's file, pull that flattens the chain).
    order: [1, 3, 2],
    callback: (status: string) => ({ status, progress: '90%' }),
    adminMetadata: null,
  },
] as const;

let service: ServiceProcess;
let dir: string;
let share: string;
let agentPort: number;

beforeAll(async () => {
  dir = scratchDir('create-delete');
  share = `${dir}/share`;
  agentPort = await freePort();
  service = await startService({ share, agentPort });
});
afterAll(async () => {
  if (service) expect(await service.stop()).toBe(0);
  removeScratch(dir);
});

describe.each(forms)('online create and delete, $form callback form', ({ legacy, order, callback, adminMetadata }) => {
  let agent: LoggedProcess;
  let cloud: Cloud;
  beforeAll(async () => {
    agent = await startAgent({ port: agentPort, share, servicePort: service.port, legacy });
    cloud = new Cloud(service, agentPort);
  });
  afterAll(async () => {
    if (agent) expect(await agent.stop()).toBe(0);
  });

  /** The single compute.status row of an operation: accepted, from compute, in the form sent. */
  function computeRow(history: Transition[], op: 'creating' | 'deleting') {
    const rows = history.filter((t) => t.event === 'compute.status' && t.from_phase === `${op}.computeAssisted`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ rejected: false, source: 'compute', to_phase: `${op}.storageComplete`, payload: callback(op) });
  }

  async function checkSnapshots(model: VolumeModel, deleted: string[]) {
    const statuses = await cloud.snapshotStatuses(model.volumeId);
    expect(statuses).toEqual(Object.fromEntries(model.snapshots.map((s) => [s.id, 'available'])));
    for (const { id } of model.snapshots) {
      expect((await cloud.snapshotView(id)).status).toBe('available');
      const history = await cloud.transitions(id);
      expect(acceptedPath(history)).toEqual(CREATE_PATH);
      expect(history.filter((t) => t.rejected)).toEqual([]);
      computeRow(history, 'creating');
      const meta = await cloud.adminMetadata(id);
      if (adminMetadata) expect(meta).toMatchObject(adminMetadata);
      else {
        expect(meta).not.toHaveProperty('compute_snapshot_status');
        expect(meta).not.toHaveProperty('compute_progress');
      }
    }
    for (const id of deleted) {
      await expect(cloud.snapshotView(id)).rejects.toMatchObject({ status: 404 } satisfies Partial<HttpError>);
      const history = await cloud.transitions(id);
      expect(acceptedPath(history)).toEqual([...CREATE_PATH, ...DELETE_PATH]);
      expect(history.filter((t) => t.rejected)).toEqual([]);
      computeRow(history, 'deleting');
    }
  }

  it('takes three snapshots with data, deletes them one by one, and every step leaves a correct chain', async () => {
    const volumeId = await cloud.createVolume('online');
    const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: true };
    await cloud.attach(randomUUID(), volumeId);
    expect(await cloud.volumeStatus(volumeId)).toBe('in-use');
    await verifyVolume(share, model);

    const taken: string[] = [];
    for (let k = 1; k <= 3; k++) {
      await writeGeneration(share, await activeFile(share, volumeId), ++model.writes);
      const { id, phase } = await cloud.snapshot(volumeId, `snap-${k}`);
      expect(phase).toBe('available');
      taken.push(id);
      model.snapshots.push({ id, writes: model.writes });
      await checkSnapshots(model, []);
      await verifyVolume(share, model);
    }
    // The instance keeps writing into the active file after the last snapshot.
    await writeGeneration(share, await activeFile(share, volumeId), ++model.writes);
    await verifyVolume(share, model);

    const deleted: string[] = [];
    for (const n of order) {
      const id = taken[n - 1];
      expect(await cloud.deleteSnapshot(id)).toBe('deleted');
      deleted.push(id);
      model.snapshots = model.snapshots.filter((s) => s.id !== id);
      await checkSnapshots(model, deleted);
      await verifyVolume(share, model);
    }
    // Every snapshot gone: one file left, the active one, holding every write.
    expect((await cloud.transitions(deleted[0])).at(-1)).toMatchObject({ to_phase: 'deleted', to_status: 'deleted' });
  });
});

describe('offline create and delete (detached volume)', () => {
  const OFFLINE_CREATE = ['- -> creating.driverCreate (snapshot.create/api)', 'creating.driverCreate -> available (storage.done/driver)'];
  const OFFLINE_DELETE = ['available -> deleting.driverDelete (snapshot.delete/api)', 'deleting.driverDelete -> deleted (storage.done/driver)'];

  it('takes three snapshots and deletes them in one phase each, compute not involved', async () => {
    // No agent runs here at all: nothing on this path may ask compute for anything.
    const cloud = new Cloud(service, agentPort);
    const volumeId = await cloud.createVolume('offline');
    expect(await cloud.volumeStatus(volumeId)).toBe('available');
    const model: VolumeModel = { volumeId, snapshots: [], writes: 0, attached: false };
    const taken: string[] = [];
    for (let k = 1; k <= 3; k++) {
      await writeGeneration(share, await activeFile(share, volumeId), ++model.writes);
      const { id, phase } = await cloud.snapshot(volumeId, `offline-${k}`, false);
      expect(phase).toBe('available');
      taken.push(id);
      model.snapshots.push({ id, writes: model.writes });
      const history = await cloud.transitions(id);
      expect(acceptedPath(history)).toEqual(OFFLINE_CREATE);
      expect(history.filter((t) => t.rejected || t.event.startsWith('compute'))).toEqual([]);
      expect(await cloud.adminMetadata(id)).not.toHaveProperty('compute_snapshot_status');
      await verifyVolume(share, model);
    }
    await writeGeneration(share, await activeFile(share, volumeId), ++model.writes);
    await verifyVolume(share, model);

    // Newest (its file is the active one), first, then middle.
    for (const n of [3, 1, 2]) {
      const id = taken[n - 1];
      expect(await cloud.deleteSnapshot(id)).toBe('deleted');
      model.snapshots = model.snapshots.filter((s) => s.id !== id);
      expect(acceptedPath(await cloud.transitions(id))).toEqual([...OFFLINE_CREATE, ...OFFLINE_DELETE]);
      await expect(cloud.snapshotView(id)).rejects.toMatchObject({ status: 404 });
      expect(await cloud.snapshotStatuses(volumeId)).toEqual(Object.fromEntries(model.snapshots.map((s) => [s.id, 'available'])));
      await verifyVolume(share, model);
    }
    expect(await cloud.volumeStatus(volumeId)).toBe('available');
  });
});
