// The compute callback's contract: POST /v3/{project_id}/snapshots/{id}/action with
// os-update_snapshot_status, which compute (Nova, or the embedded agent) sends while an assisted
// snapshot waits in its compute phase, after Cinder asked it through os-assisted-volume-snapshots.
// Both forms are accepted: an unmodified Nova's status + progress, where "90%" means compute is
// done, and the new compute_snapshot_status + compute_progress, written to admin metadata. The
// body's schema comes first, then the callback over HTTP (real createApp over SQLite and
// PostgreSQL, noauth, an assisted TestDriver and a TestCompute; `worker.drain()` runs what the API
// committed): accepted transitions, refusals with Cinder's messages recorded as rejected history,
// duplicates and late callbacks, and bad bodies, each a 4xx in the fault format.
// Who may call back (policy) is tested with the policy and Keystone tests; tests that only use
// callbacks to drive a snapshot (end to end, crash, concurrency, model, UI) stay with what they test.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiFault } from '../../src/http/faults/index.js';
import { updateSnapshotStatusSchema } from '../../src/api/schemas/index.js';
import { parseOrFault } from '../../src/http/validation/index.js';
import { providers } from '../support/databases.js';
import { apiFixture, expectFault, type ApiFixture } from './helpers.js';
import { ok, refused } from './schemas/parse.js';
import { snapshotSteps } from './snapshot-steps.js';

const P = '/v3/proj';
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';

describe('os-update_snapshot_status body schema', () => {
  const body = (fields: Record<string, unknown>) => ({ 'os-update_snapshot_status': fields });

  const goodProgress = ['0%', '5%', '9%', '10%', '50%', '90%', '99%', '100%'];
  const badProgress: unknown[] = [' 50%', '50% ', '+5%', '-5%', '050%', '00%', '101%', '1000%', '50', '%', '', '5.0%', '5 %', 'fifty%', 0, 50, null, true, ['50%'], {}];

  it.each(goodProgress)('progress %j is accepted (also as compute_progress)', (p) => {
    expect(ok(updateSnapshotStatusSchema, body({ status: 'creating', progress: p }))['os-update_snapshot_status'].progress).toBe(p);
    expect(ok(updateSnapshotStatusSchema, body({ status: 'creating', compute_progress: p }))['os-update_snapshot_status'].compute_progress).toBe(p);
  });

  it.each(badProgress)('progress %j is refused with a clear message (also as compute_progress)', (p) => {
    const msg = refused(updateSnapshotStatusSchema, body({ status: 'creating', progress: p }));
    expect(msg).toContain('os-update_snapshot_status.progress');
    expect(msg).toContain('integer percentage');
    expect(refused(updateSnapshotStatusSchema, body({ status: 'creating', compute_progress: p }))).toContain(
      'os-update_snapshot_status.compute_progress',
    );
  });

  it('accepts every valid compute_snapshot_status and the legacy shape', () => {
    for (const s of ['in-progress', 'complete', 'error']) {
      expect(ok(updateSnapshotStatusSchema, body({ status: 'creating', compute_snapshot_status: s }))).toEqual(
        body({ status: 'creating', compute_snapshot_status: s }),
      );
    }
    expect(ok(updateSnapshotStatusSchema, body({ status: 'deleting', progress: '90%' }))).toEqual(body({ status: 'deleting', progress: '90%' }));
  });

  it.each([
    [body({}), "'status' is a required property in os-update_snapshot_status"],
    [body({ status: 5 }), 'os-update_snapshot_status.status'],
    [body({ status: null }), 'os-update_snapshot_status.status'],
    [body({ status: 'creating', compute_snapshot_status: 'done' }), 'os-update_snapshot_status.compute_snapshot_status'],
    [body({ status: 'creating', compute_snapshot_status: 'COMPLETE' }), 'os-update_snapshot_status.compute_snapshot_status'],
    [body({ status: 'creating', progress: '90%', extra: 1 }), "'extra' was unexpected"],
    [{ 'os-update_snapshot_status': { status: 'creating' }, other: {} }, "'other' was unexpected"],
    [{ 'os-update_snapshot_status': null }, 'os-update_snapshot_status'],
    [{ 'os-update_snapshot_status': 'creating' }, 'os-update_snapshot_status'],
  ])('refuses %j', (b, fragment) => {
    expect(refused(updateSnapshotStatusSchema, b)).toContain(fragment);
  });

  it('never throws anything but a 400 ApiFault for arbitrary JSON', () => {
    const field = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom('creating', 'deleting', '90%', '100%', ' 50%', '050%', 'in-progress', 'complete', 'error'),
    );
    const inner = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { status: field, progress: field, compute_snapshot_status: field, compute_progress: field, other: field },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string(), field),
    );
    const bodyArb = fc.oneof(
      fc.jsonValue(),
      inner.map((v) => ({ 'os-update_snapshot_status': v })),
      fc.tuple(fc.string(), inner).map(([k, v]) => ({ 'os-update_snapshot_status': v, [k]: v })),
    );
    fc.assert(
      fc.property(bodyArb, (b) => {
        try {
          const parsed = parseOrFault(updateSnapshotStatusSchema, b);
          const fields = parsed['os-update_snapshot_status'];
          // Whatever got through has exactly the promised shape.
          expect(typeof fields.status).toBe('string');
          for (const p of [fields.progress, fields.compute_progress]) {
            if (p !== undefined) expect(p).toMatch(/^(100|[1-9]?[0-9])%$/);
          }
        } catch (err) {
          if (!(err instanceof ApiFault) || err.code !== 400) throw err;
          expect(err.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe.each(providers)('compute callback on %s', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });
  const { transitions, last, adminMetadata, show, action, callback, waitingForCompute } = snapshotSteps(() => f);

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
});
