// HTTP-level tests of the REST API (issue 3), part 3: snapshot actions (the compute callback
// os-update_snapshot_status in both forms, os-reset_status, os-force_delete) and the admin
// extensions admin_metadata and transitions. Real createApp over SQLite and PostgreSQL, noauth,
// an assisted TestDriver and a TestCompute; `worker.drain()` runs what the API committed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { apiFixture, expectFault, INSTANCE, type ApiFixture } from './helpers.js';

const P = '/v3/proj';
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';

interface Transition {
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

describe.each(providers)('REST API on %s: snapshot actions and extensions', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const volume = async (attached: boolean) => {
    const r = await f.call('POST', `${P}/volumes`, { body: { volume: { size: 1 } } });
    const id = r.json.volume.id as string;
    if (attached) {
      await f.call('POST', `${P}/volumes/${id}/action`, { body: { 'os-reserve': null } });
      const a = await f.call('POST', `${P}/volumes/${id}/action`, { body: { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } } });
      expect(a.status).toBe(202);
    }
    return id;
  };
  const snapshotOn = async (volumeId: string, force = false) => {
    const r = await f.call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: volumeId, force } } });
    expect(r.status, r.text).toBe(202);
    return r.json.snapshot.id as string;
  };
  const transitions = async (id: string) => {
    const r = await f.call('GET', `${P}/snapshots/${id}/transitions`);
    expect(r.status, r.text).toBe(200);
    return r.json.transitions as Transition[];
  };
  const last = async (id: string) => (await transitions(id)).at(-1)!;
  const adminMetadata = async (id: string) => {
    const r = await f.call('GET', `${P}/snapshots/${id}/admin_metadata`);
    expect(r.status, r.text).toBe(200);
    return r.json.admin_metadata as Record<string, string>;
  };
  const show = async (id: string) => (await f.call('GET', `${P}/snapshots/${id}`)).json.snapshot;
  const action = (id: string, body: unknown) => f.call('POST', `${P}/snapshots/${id}/action`, { body });
  const callback = (id: string, update: unknown) => action(id, { 'os-update_snapshot_status': update });

  /** A snapshot of an attached volume whose compute part was requested: creating, waiting. */
  const waitingForCompute = async () => {
    const id = await snapshotOn(await volume(true), true);
    await f.h.worker.drain();
    expect((await last(id)).to_phase).toBe('creating.computeAssisted');
    expect(f.h.compute.requests.at(-1)).toMatchObject({ op: 'create', id });
    return id;
  };

  describe('os-update_snapshot_status, legacy form (an unmodified Nova)', () => {
    it('"creating" + "90%" completes compute; its duplicate is a recorded 400, before and after completion', async () => {
      const id = await waitingForCompute();
      const r = await callback(id, { status: 'creating', progress: '90%' });
      expect([r.status, r.text]).toEqual([202, '']);
      const done = await last(id);
      expect(done).toMatchObject({
        from_phase: 'creating.computeAssisted',
        to_phase: 'creating.storageComplete',
        event: 'compute.status',
        source: 'compute',
        payload: { status: 'creating', progress: '90%' },
        rejected: false,
      });
      // The legacy form writes no compute_* admin metadata; the driver's create_info is there.
      const meta = await adminMetadata(id);
      expect(meta).toHaveProperty('create_info');
      expect(meta).not.toHaveProperty('compute_snapshot_status');

      const countBefore = (await transitions(id)).length;
      const dup = await callback(id, { status: 'creating', progress: '90%' });
      expectFault(dup, 400, 'badRequest', 'Invalid snapshot: compute callback (status creating) not accepted in phase creating.storageComplete.');
      const afterDup = await transitions(id);
      expect(afterDup).toHaveLength(countBefore + 1);
      expect(afterDup.at(-1)).toMatchObject({
        version: done.version,
        from_phase: 'creating.storageComplete',
        to_phase: 'creating.storageComplete',
        event: 'compute.status',
        source: 'compute',
        rejected: true,
        reason: expect.stringContaining('not accepted in phase creating.storageComplete'),
      });

      await f.h.worker.drain();
      expect(await show(id)).toMatchObject({ status: 'available', 'os-extended-snapshot-attributes:progress': '100%' });
      const late = await callback(id, { status: 'creating', progress: '90%' });
      expectFault(late, 400, 'badRequest', 'Snapshot status available not allowed for update_snapshot_status');
      expect(await last(id)).toMatchObject({ from_status: 'available', to_status: 'available', rejected: true });
      expect((await show(id)).status).toBe('available');
    });

    it('other progress values are progress reports; "error" fails the snapshot', async () => {
      const id = await waitingForCompute();
      expect((await callback(id, { status: 'creating', progress: '50%' })).status).toBe(202);
      expect(await show(id)).toMatchObject({ status: 'creating', 'os-extended-snapshot-attributes:progress': '50%' });
      expect((await callback(id, { status: 'creating' })).status).toBe(202);
      expect((await last(id)).to_phase).toBe('creating.computeAssisted');
      expect((await callback(id, { status: 'error', progress: '50%' })).status).toBe(202);
      expect((await show(id)).status).toBe('error');
      expect(await last(id)).toMatchObject({ to_phase: 'error', to_status: 'error', rejected: false });
    });

    it('answers with Cinder\'s two messages where its status table refuses, and records the refusal', async () => {
      const id = await waitingForCompute();
      for (const status of ['deleting', 'error_deleting', 'bogus']) {
        expectFault(await callback(id, { status }), 400, 'badRequest', `Provided snapshot status ${status} not allowed for snapshot with status creating`);
        expect(await last(id)).toMatchObject({ rejected: true, from_status: 'creating', payload: { status } });
      }
      expect((await action(id, { 'os-reset_status': { status: 'available' } })).status).toBe(202);
      expectFault(await callback(id, { status: 'available' }), 400, 'badRequest', 'Snapshot status available not allowed for update_snapshot_status');
      expect((await show(id)).status).toBe('available');
    });

    it('Nova\'s delete: "deleting" + "90%" completes compute and the snapshot is deleted', async () => {
      const id = await waitingForCompute();
      expect((await callback(id, { status: 'creating', progress: '90%' })).status).toBe(202);
      await f.h.worker.drain();
      expect((await f.call('DELETE', `${P}/snapshots/${id}`)).status).toBe(202);
      await f.h.worker.drain();
      expect(await show(id)).toMatchObject({ status: 'deleting' });
      expect(f.h.compute.requests.at(-1)).toMatchObject({ op: 'delete', id });
      expect(await adminMetadata(id)).toHaveProperty('delete_info');
      expectFault(await callback(id, { status: 'creating', progress: '90%' }), 400, 'badRequest', 'Provided snapshot status creating not allowed for snapshot with status deleting');
      expect((await callback(id, { status: 'deleting', progress: '90%' })).status).toBe(202);
      await f.h.worker.drain();
      expectFault(await f.call('GET', `${P}/snapshots/${id}`), 404, 'itemNotFound');
      // The history outlives the snapshot, oldest first.
      const history = await transitions(id);
      expect(history.map((t) => t.to_phase)).toEqual([
        'creating.storageBegin',
        'creating.computeAssisted',
        'creating.storageComplete',
        'available',
        'deleting.storageBegin',
        'deleting.computeAssisted',
        'deleting.computeAssisted', // the rejected "creating" callback
        'deleting.storageComplete',
        'deleted',
      ]);
      expect(history.map((t) => t.rejected)).toEqual([false, false, false, false, false, false, true, false, false]);
      expectFault(await callback(id, { status: 'deleting', progress: '90%' }), 404, 'itemNotFound', `Snapshot ${id} could not be found.`);
    });
  });

  describe('os-update_snapshot_status, new form (compute_snapshot_status, compute_progress)', () => {
    it('writes both fields to admin metadata and drives the machine with them', async () => {
      const id = await waitingForCompute();
      let r = await callback(id, { status: 'creating', compute_snapshot_status: 'in-progress', compute_progress: '40%' });
      expect(r.status).toBe(202);
      expect(await adminMetadata(id)).toMatchObject({ compute_snapshot_status: 'in-progress', compute_progress: '40%' });
      expect(await show(id)).toMatchObject({ status: 'creating', 'os-extended-snapshot-attributes:progress': '40%' });
      // The new field decides: "90%" in the legacy field does not complete while it says in-progress.
      r = await callback(id, { status: 'creating', progress: '90%', compute_snapshot_status: 'in-progress', compute_progress: '60%' });
      expect(r.status).toBe(202);
      expect((await last(id)).to_phase).toBe('creating.computeAssisted');
      r = await callback(id, { status: 'creating', compute_snapshot_status: 'complete', compute_progress: '100%' });
      expect(r.status).toBe(202);
      expect(await adminMetadata(id)).toMatchObject({ compute_snapshot_status: 'complete', compute_progress: '100%' });
      expect((await last(id)).to_phase).toBe('creating.storageComplete');
      await f.h.worker.drain();
      expect((await show(id)).status).toBe('available');
    });

    it('compute_snapshot_status "error" fails the snapshot; a refused callback writes no admin metadata', async () => {
      const id = await waitingForCompute();
      expect((await callback(id, { status: 'creating', compute_snapshot_status: 'error', compute_progress: '10%' })).status).toBe(202);
      expect(await show(id)).toMatchObject({ status: 'error' });
      expect(await adminMetadata(id)).toMatchObject({ compute_snapshot_status: 'error', compute_progress: '10%' });
      const r = await callback(id, { status: 'creating', compute_snapshot_status: 'complete', compute_progress: '100%' });
      expectFault(r, 400, 'badRequest', 'Snapshot status error not allowed for update_snapshot_status');
      expect(await adminMetadata(id)).toMatchObject({ compute_snapshot_status: 'error', compute_progress: '10%' });
    });
  });

  describe('os-update_snapshot_status validation', () => {
    it('progress is strict: one spelling per number, strings only, with a clear message', async () => {
      const id = await waitingForCompute();
      const before = (await transitions(id)).length;
      for (const field of ['progress', 'compute_progress']) {
        for (const value of [' 50%', '+5%', '050%', 0, null, '', '50', '101%', '50.5%', '-1%', '50 %', '５0%', 50]) {
          const r = await callback(id, { status: 'creating', [field]: value });
          expectFault(
            r,
            400,
            'badRequest',
            `Invalid input for field/attribute os-update_snapshot_status.${field}. Value: ${JSON.stringify(value)}. must be an integer percentage string from "0%" to "100%", without sign, spaces or leading zeros`,
          );
        }
      }
      // Refused by the schema, so they never reached the machine: no history, same state.
      expect(await transitions(id)).toHaveLength(before);
      for (const ok of ['0%', '7%', '100%']) expect((await callback(id, { status: 'creating', progress: ok })).status).toBe(202);
      expect((await show(id))['os-extended-snapshot-attributes:progress']).toBe('100%');
    });

    it('refuses unknown keys, a missing status and unknown compute statuses', async () => {
      const id = await waitingForCompute();
      expectFault(await callback(id, { status: 'creating', progress: '50%', colour: 'red' }), 400, 'badRequest', /Additional properties are not allowed \('colour' was unexpected\)/);
      expectFault(await callback(id, { progress: '50%' }), 400, 'badRequest', "'status' is a required property in os-update_snapshot_status.");
      expectFault(await callback(id, { status: 7 }), 400, 'badRequest', /os-update_snapshot_status\.status/);
      const huge = await callback(id, { status: 'x'.repeat(10_000) });
      expectFault(huge, 400, 'badRequest', /^Invalid input for field\/attribute os-update_snapshot_status\.status\. Value: "x+\.\.\.\. must be at most 255 characters$/);
      expect(huge.text.length).toBeLessThan(400);
      expectFault(await callback(id, { status: 'creating', compute_snapshot_status: 'done' }), 400, 'badRequest', /must be one of in-progress, complete, error/);
      expectFault(await callback(id, null), 400, 'badRequest');
      expectFault(await callback(id, 'creating'), 400, 'badRequest');
      expectFault(await action(id, { 'os-update_snapshot_status': { status: 'creating' }, extra: 1 }), 400, 'badRequest', 'Malformed request body');
      expectFault(await action(id, { 'os-fly': {} }), 400, 'badRequest', /^There is no such action: os-fly/);
      expectFault(await action(id, {}), 400, 'badRequest', 'Malformed request body');
      expectFault(await callback(MISSING, { status: 'creating', progress: '90%' }), 404, 'itemNotFound', `Snapshot ${MISSING} could not be found.`);
      expect((await last(id)).to_phase).toBe('creating.computeAssisted');
    });
  });

  describe('admin actions', () => {
    it('os-reset_status moves a snapshot to available, error or error_deleting and refuses other statuses', async () => {
      const id = await waitingForCompute();
      expect((await action(id, { 'os-reset_status': { status: 'error' } })).status).toBe(202);
      expect(await last(id)).toMatchObject({ event: 'admin.reset_status', source: 'admin', to_status: 'error' });
      expect((await action(id, { 'os-reset_status': { status: 'ERROR_deleting' } })).status).toBe(202);
      expect((await show(id)).status).toBe('error_deleting');
      for (const status of ['creating', 'deleting', 'deleted', 'in-use', '']) {
        expectFault(await action(id, { 'os-reset_status': { status } }), 400, 'badRequest', /Snapshot status is invalid, valid statuses are: available, error, error_deleting/);
      }
      expectFault(await action(id, { 'os-reset_status': {} }), 400, 'badRequest', /'status' is a required property/);
      expectFault(await action(id, { 'os-reset_status': null }), 400, 'badRequest');
      expect((await action(id, { 'os-reset_status': { status: 'available' } })).status).toBe(202);
      expect((await show(id)).status).toBe('available');
      expectFault(await action(MISSING, { 'os-reset_status': { status: 'available' } }), 404, 'itemNotFound');
    });

    it('os-force_delete deletes a snapshot in any state, through the worker', async () => {
      const vol = await volume(false);
      const id = await snapshotOn(vol);
      expectFault(await action(id, { 'os-force_delete': { now: true } }), 400, 'badRequest');
      const r = await action(id, { 'os-force_delete': {} });
      expect([r.status, r.text]).toEqual([202, '']);
      expect((await show(id)).status).toBe('deleting');
      const reports = await f.h.worker.drain();
      // The create job of the abandoned phase is cancelled, not run.
      expect(reports.map((x) => [x.kind, x.result])).toEqual([
        ['createSnapshot', 'cancelled'],
        ['deleteSnapshot', 'ran'],
      ]);
      expectFault(await f.call('GET', `${P}/snapshots/${id}`), 404, 'itemNotFound');
      expectFault(await action(id, { 'os-force_delete': null }), 404, 'itemNotFound');
      expect((await last(id))).toMatchObject({ to_phase: 'deleted', to_status: 'deleted' });
    });
  });

  describe('extensions', () => {
    it('transitions are the whole history, oldest first; admin_metadata shows the current keys', async () => {
      const id = await waitingForCompute();
      await callback(id, { status: 'creating', compute_snapshot_status: 'complete', compute_progress: '100%' });
      await f.h.worker.drain();
      const history = await transitions(id);
      expect(history.map((t) => [t.version, t.event, t.source, t.from_phase, t.to_phase])).toEqual([
        [1, 'snapshot.create', 'api', null, 'creating.storageBegin'],
        [2, 'storage.done', 'driver', 'creating.storageBegin', 'creating.computeAssisted'],
        [3, 'compute.status', 'compute', 'creating.computeAssisted', 'creating.storageComplete'],
        [4, 'storage.done', 'driver', 'creating.storageComplete', 'available'],
      ]);
      const ids = history.map((t) => t.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(history[0]).toMatchObject({ from_status: null, to_status: 'creating', rejected: false, reason: null, payload: { assisted: true } });
      expect(history[0]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
      const meta = await adminMetadata(id);
      expect(Object.keys(meta).sort()).toEqual(['compute_progress', 'compute_snapshot_status', 'create_info']);
      expect(JSON.parse(meta.create_info!)).toEqual({ snapshot_id: id, type: 'qcow2', new_file: expect.stringContaining(id) });
      expectFault(await f.call('GET', `${P}/snapshots/${MISSING}/transitions`), 404, 'itemNotFound');
      expectFault(await f.call('GET', `${P}/snapshots/${MISSING}/admin_metadata`), 404, 'itemNotFound');
    });
  });
});
