// Request ids as OpenStack hands them out, and the structured transition log that carries them.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVolume, PROJECT, startTestService, type TestService } from '../observability/helpers.js';

const REQ_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids and transition logs', () => {
  let t: TestService;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    // pino writes synchronously to a plain object stream, so a line is there once the call returns.
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    t = await startTestService({ logger });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers every request, faults included, with its own X-OpenStack-Request-Id', async () => {
    const ok = await t.call('GET', `/v3/${PROJECT}/snapshots`);
    const missing = await t.call('GET', `/v3/${PROJECT}/snapshots/00000000-0000-0000-0000-000000000000`);
    const badVersion = await t.call('GET', `/v3/${PROJECT}/snapshots`, undefined, { 'OpenStack-API-Version': 'volume 9.9' });
    expect([ok.status, missing.status, badVersion.status]).toEqual([200, 404, 406]);
    const ids = [ok, missing, badVersion].map((r) => r.headers.get('x-openstack-request-id'));
    for (const id of ids) expect(id).toMatch(REQ_ID);
    expect(new Set(ids).size).toBe(3);
  });

  it("keeps its own id when the caller sends one (the caller's is logged as the global id)", async () => {
    const theirs = 'req-11111111-2222-3333-4444-555555555555';
    const res = await t.call('GET', `/v3/${PROJECT}/volumes`, undefined, { 'X-OpenStack-Request-Id': theirs });
    expect(res.headers.get('x-openstack-request-id')).toMatch(REQ_ID);
    expect(res.headers.get('x-openstack-request-id')).not.toBe(theirs);
  });

  it('logs each transition as JSON with snapshot id, state, event and the request that caused it', async () => {
    const volumeId = await createVolume(t, 'logged', false);
    const res = await t.call('POST', `/v3/${PROJECT}/snapshots`, { snapshot: { volume_id: volumeId, name: 'logged' } }, {
      'X-OpenStack-Request-Id': 'req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    });
    expect(res.status).toBe(202);
    const requestId = res.headers.get('x-openstack-request-id');
    const { snapshot } = (await res.json()) as { snapshot: { id: string } };
    await t.log.reached(snapshot.id, 'available');

    const mine = lines.filter((l) => l.msg === 'snapshot transition' && l.snapshotId === snapshot.id);
    expect(mine).toHaveLength(2);
    expect(mine[0]).toMatchObject({
      snapshotId: snapshot.id,
      phase: 'creating.driverCreate',
      event: 'snapshot.create',
      source: 'api',
      requestId,
      globalRequestId: 'req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    });
    // The driver's result is delivered by the worker, outside of any request.
    expect(mine[1]).toMatchObject({ snapshotId: snapshot.id, phase: 'available', event: 'storage.done', source: 'driver' });
    expect(mine[1]!.requestId).toBeUndefined();
  });
});
