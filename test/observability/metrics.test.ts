// /metrics against the real service: the text must parse as Prometheus exposition, and its
// numbers must move exactly as a scripted run through the API says they should.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callback, createSnapshot, createVolume, PROJECT, startTestService, type TestService } from './helpers.js';
import { parsePrometheusText, sumOf, valueOf, type Family } from './prometheus-text.js';

const P = 'assisted_snapshots_';

async function scrape(t: TestService): Promise<Map<string, Family>> {
  // No token: scrapers do not authenticate, and the numbers carry no names or ids.
  const res = await t.call('GET', '/metrics', undefined, { 'X-Auth-Token': '' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

/** How much each named series moved between two scrapes. */
const moved = (before: Map<string, Family>, after: Map<string, Family>, sample: string, labels: Record<string, string> = {}) =>
  valueOf(after, sample, labels) - valueOf(before, sample, labels);

describe('/metrics', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('declares every family with its type, and process metrics besides', async () => {
    const m = await scrape(t);
    expect(m.get(`${P}snapshots`)?.type).toBe('gauge');
    expect(m.get(`${P}outbox_depth`)?.type).toBe('gauge');
    expect(m.get(`${P}outbox_lag_seconds`)?.type).toBe('gauge');
    expect(m.get(`${P}phase_duration_seconds`)?.type).toBe('histogram');
    expect(m.get(`${P}callback_to_next_phase_seconds`)?.type).toBe('histogram');
    expect(m.get(`${P}callbacks_total`)?.type).toBe('counter');
    expect(m.get(`${P}timeouts_total`)?.type).toBe('counter');
    expect(m.get(`${P}transitions_total`)?.type).toBe('counter');
    expect(m.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    // Every phase has a series from the start, so dashboards never see one appear from nowhere.
    const phases = m.get(`${P}snapshots`)!.samples.map((s) => s.labels.phase);
    expect(phases).toEqual(expect.arrayContaining(['creating.computeAssisted', 'available', 'deleted', 'error']));
  });

  it('follows a create and a delete through the API', async () => {
    const before = await scrape(t);
    const volumeId = await createVolume(t, 'plain', false);
    const id = await createSnapshot(t, volumeId, 'unassisted');
    await t.log.reached(id, 'available');
    const created = await scrape(t);

    expect(moved(before, created, `${P}snapshots`, { phase: 'available', status: 'available' })).toBe(1);
    expect(moved(before, created, `${P}transitions_total`, { event: 'snapshot.create', source: 'api' })).toBe(1);
    expect(moved(before, created, `${P}transitions_total`, { event: 'storage.done', source: 'driver' })).toBe(1);
    expect(moved(before, created, `${P}phase_duration_seconds_count`, { phase: 'creating.driverCreate', outcome: 'ok' })).toBe(1);
    expect(moved(before, created, `${P}phase_duration_seconds_bucket`, { phase: 'creating.driverCreate', outcome: 'ok', le: '+Inf' })).toBe(1);

    const res = await t.call('DELETE', `/v3/${PROJECT}/snapshots/${id}`);
    expect(res.status).toBe(202);
    await t.log.reached(id, 'deleted');
    const deleted = await scrape(t);

    expect(moved(created, deleted, `${P}snapshots`, { phase: 'available', status: 'available' })).toBe(-1);
    expect(moved(created, deleted, `${P}snapshots`, { phase: 'deleted', status: 'deleted' })).toBe(1);
    expect(moved(created, deleted, `${P}transitions_total`, { event: 'snapshot.delete', source: 'api' })).toBe(1);
    expect(moved(created, deleted, `${P}phase_duration_seconds_count`, { phase: 'available', outcome: 'ok' })).toBe(1);
    expect(moved(created, deleted, `${P}phase_duration_seconds_count`, { phase: 'deleting.driverDelete', outcome: 'ok' })).toBe(1);
    // Every effect ran: nothing is left waiting in the outbox.
    expect(sumOf(deleted, `${P}outbox_depth`)).toBe(0);
    expect(sumOf(deleted, `${P}outbox_lag_seconds`)).toBe(0);
  });

  it('counts callbacks by form and result, and the time from a finishing callback to the next phase', async () => {
    const before = await scrape(t);
    const volumeId = await createVolume(t, 'attached', true);
    const legacy = await createSnapshot(t, volumeId, 'legacy-form');
    const modern = await createSnapshot(t, volumeId, 'new-form');
    await t.log.reached(legacy, 'creating.computeAssisted');
    await t.log.reached(modern, 'creating.computeAssisted');

    expect((await callback(t, legacy, { status: 'creating', progress: '50%' })).status).toBe(202);
    expect((await callback(t, legacy, { status: 'creating', progress: '90%' })).status).toBe(202);
    expect((await callback(t, modern, { status: 'creating', compute_snapshot_status: 'complete', compute_progress: '100%' })).status).toBe(202);
    await t.log.reached(legacy, 'available');
    await t.log.reached(modern, 'available');
    // Too late: both snapshots are available now, the machine refuses the callbacks.
    expect((await callback(t, legacy, { status: 'creating', progress: '90%' })).status).toBe(400);
    expect((await callback(t, modern, { status: 'creating', compute_snapshot_status: 'in-progress' })).status).toBe(400);
    const after = await scrape(t);

    expect(moved(before, after, `${P}callbacks_total`, { form: 'legacy', result: 'accepted' })).toBe(2);
    expect(moved(before, after, `${P}callbacks_total`, { form: 'legacy', result: 'rejected' })).toBe(1);
    expect(moved(before, after, `${P}callbacks_total`, { form: 'new', result: 'accepted' })).toBe(1);
    expect(moved(before, after, `${P}callbacks_total`, { form: 'new', result: 'rejected' })).toBe(1);
    // Only the two callbacks that ended the compute phase have a "next phase" latency.
    expect(moved(before, after, `${P}callback_to_next_phase_seconds_count`, { operation: 'create', outcome: 'ok' })).toBe(2);
    expect(moved(before, after, `${P}phase_duration_seconds_count`, { phase: 'creating.computeAssisted', outcome: 'ok' })).toBe(2);
    expect(moved(before, after, `${P}phase_duration_seconds_count`, { phase: 'creating.storageBegin', outcome: 'ok' })).toBe(2);
    expect(moved(before, after, `${P}snapshots`, { phase: 'available', status: 'available' })).toBe(2);
  });
});

describe('/metrics with a compute wait that runs out', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ config: { COMPUTE_WAIT_CREATE_SECONDS: '1', WORKER_POLL_MS: '100' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts the timeout, the compute phase as timed out after at least its wait, and the reconcile that ended it in error', async () => {
    const before = await scrape(t);
    const volumeId = await createVolume(t, 'attached', true);
    const id = await createSnapshot(t, volumeId, 'never-called-back');
    // The test driver cannot tell what compute did: the reconcile answers unverified.
    await t.log.reached(id, 'error');
    const after = await scrape(t);

    expect(moved(before, after, `${P}timeouts_total`, { phase: 'creating.computeAssisted' })).toBe(1);
    expect(moved(before, after, `${P}phase_duration_seconds_count`, { phase: 'creating.computeAssisted', outcome: 'timeout' })).toBe(1);
    expect(moved(before, after, `${P}phase_duration_seconds_sum`, { phase: 'creating.computeAssisted', outcome: 'timeout' })).toBeGreaterThanOrEqual(1);
    expect(moved(before, after, `${P}phase_duration_seconds_count`, { phase: 'creating.reconciling', outcome: 'error' })).toBe(1);
    expect(moved(before, after, `${P}snapshots`, { phase: 'error', status: 'error' })).toBe(1);
  });
});
