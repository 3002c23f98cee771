// HTTP steps shared by the tests of snapshot actions (the compute callback's contract and the
// admin actions in routes/snapshots.test.ts): volumes to snapshot, a snapshot that waits for
// compute, and the snapshot's history and admin metadata as the API shows them.
import { expect } from 'vitest';
import { runVolumeJobs } from '../support/harness.js';
import { INSTANCE, type ApiFixture } from './helpers.js';

const P = '/v3/proj';

export interface Transition {
  id: number;
  version: number;
  from_phase: string | null;
  to_phase: string;
  from_status: string | null;
  to_status: string;
  event: string;
  source: string;
  payload: unknown;
  rejected: boolean;
  reason: string | null;
  created_at: string;
}

/** `fixture` is read at every call, so the steps follow the fixture a beforeEach replaces. */
export function snapshotSteps(fixture: () => ApiFixture) {
  const call: ApiFixture['call'] = (method, path, options) => fixture().call(method, path, options);

  const volume = async (attached: boolean) => {
    const r = await call('POST', `${P}/volumes`, { body: { volume: { size: 1 } } });
    const id = r.json.volume.id as string;
    await runVolumeJobs(fixture().h, id);
    if (attached) {
      await call('POST', `${P}/volumes/${id}/action`, { body: { 'os-reserve': null } });
      const a = await call('POST', `${P}/volumes/${id}/action`, { body: { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } } });
      expect(a.status).toBe(202);
    }
    return id;
  };
  const snapshotOn = async (volumeId: string, force = false) => {
    const r = await call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: volumeId, force } } });
    expect(r.status, r.text).toBe(202);
    return r.json.snapshot.id as string;
  };
  const transitions = async (id: string) => {
    const r = await call('GET', `${P}/snapshots/${id}/transitions`);
    expect(r.status, r.text).toBe(200);
    return r.json.transitions as Transition[];
  };
  const last = async (id: string) => (await transitions(id)).at(-1)!;
  const adminMetadata = async (id: string) => {
    const r = await call('GET', `${P}/snapshots/${id}/admin_metadata`);
    expect(r.status, r.text).toBe(200);
    return r.json.admin_metadata as Record<string, string>;
  };
  const show = async (id: string) => (await call('GET', `${P}/snapshots/${id}`)).json.snapshot;
  const action = (id: string, body: unknown) => call('POST', `${P}/snapshots/${id}/action`, { body });
  const callback = (id: string, update: unknown) => action(id, { 'os-update_snapshot_status': update });

  /** A snapshot of an attached volume whose compute part was requested: creating, waiting. */
  const waitingForCompute = async () => {
    const id = await snapshotOn(await volume(true), true);
    await fixture().h.worker.drain();
    expect((await last(id)).to_phase).toBe('creating.computeAssisted');
    expect(fixture().h.compute.requests.at(-1)).toMatchObject({ op: 'create', id });
    return id;
  };

  return { volume, snapshotOn, transitions, last, adminMetadata, show, action, callback, waitingForCompute };
}
