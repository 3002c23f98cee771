// The agent's Nova API surface: schema refusals in Nova's fault format, the 400 for a volume it
// does not have attached, the 200/204 shapes, and the attach bookkeeping that survives a restart.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createComputeAgent, type ComputeAgentOptions } from '../../../src/compute/agent/server.js';
import { AGENT_STATE_FILE_NAME } from '../../../src/contracts/compute-agent-files.js';
import { startFakeStorage, type FakeStorage } from '../../support/fake-storage.js';
import { makeShare } from '../../support/qemu-agent.js';

const SERVER = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const VOLUME = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const silent = pino({ level: 'silent' });

let storage: FakeStorage;
let share: { dir: string; remove: () => Promise<void> };

beforeEach(async () => {
  storage = await startFakeStorage();
  share = await makeShare();
  // The attach only checks that the file is there; its content does not matter for these tests.
  await writeFile(path.join(share.dir, `volume-${VOLUME}`), '');
  storage.volumes.set(VOLUME, { name: `volume-${VOLUME}`, format: 'raw' });
});
afterEach(async () => {
  await storage.close();
  await share.remove();
});

async function agent(extra: Partial<ComputeAgentOptions> = {}) {
  return createComputeAgent({
    storageUrl: storage.url,
    tokenProvider: async () => 'nova:svc',
    shareDir: share.dir,
    logger: silent,
    ...extra,
  });
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const validCreate = (volumeId = VOLUME) => ({
  snapshot: { volume_id: volumeId, create_info: { snapshot_id: 's1', type: 'qcow2', new_file: `volume-${volumeId}.s1` } },
});

async function attach(app: Awaited<ReturnType<typeof agent>>['app'], body: unknown = { volumeAttachment: { volumeId: VOLUME } }) {
  return app.request(`/v2.1/servers/${SERVER}/os-volume_attachments`, json(body));
}

describe('POST /v2.1/os-assisted-volume-snapshots validation', () => {
  const refusals: [string, unknown][] = [
    ['no snapshot', {}],
    ['extra top-level key', { ...validCreate(), extra: 1 }],
    ['extra key in snapshot', { snapshot: { ...validCreate().snapshot, extra: 1 } }],
    ['extra key in create_info', { snapshot: { volume_id: VOLUME, create_info: { ...validCreate().snapshot.create_info, extra: 1 } } }],
    ['empty volume_id', validCreate('')],
    ['numeric volume_id', { snapshot: { ...validCreate().snapshot, volume_id: 5 } }],
    ['missing create_info', { snapshot: { volume_id: VOLUME } }],
    ['type not qcow2', { snapshot: { volume_id: VOLUME, create_info: { snapshot_id: 's', type: 'raw', new_file: 'f' } } }],
    ['missing new_file', { snapshot: { volume_id: VOLUME, create_info: { snapshot_id: 's', type: 'qcow2' } } }],
    ['missing snapshot_id', { snapshot: { volume_id: VOLUME, create_info: { type: 'qcow2', new_file: 'f' } } }],
    ['empty id', { snapshot: { volume_id: VOLUME, create_info: { snapshot_id: 's', type: 'qcow2', new_file: 'f', id: '' } } }],
    ['array body', [validCreate()]],
    ['null create_info', { snapshot: { volume_id: VOLUME, create_info: null } }],
  ];

  it.each(refusals)('refuses %s with a 400 badRequest fault', async (_name, body) => {
    const { app } = await agent();
    await attach(app);
    const res = await app.request('/v2.1/os-assisted-volume-snapshots', json(body));
    expect(res.status).toBe(400);
    const fault = (await res.json()) as { badRequest: { code: number; message: string } };
    expect(fault.badRequest.code).toBe(400);
    expect(fault.badRequest.message).toEqual(expect.any(String));
  });

  it('refuses a body that is not JSON', async () => {
    const { app } = await agent();
    const res = await app.request('/v2.1/os-assisted-volume-snapshots', json('{"snapshot":'));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request body' } });
  });

  it('answers 400 for a volume no instance has attached, as Nova does', async () => {
    const { app } = await agent();
    const res = await app.request('/v2.1/os-assisted-volume-snapshots', json(validCreate()));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      badRequest: { code: 400, message: `No volume Block Device Mapping with id ${VOLUME}.` },
    });
  });

  it('never answers 5xx to arbitrary bodies (fast-check)', async () => {
    const { app, agent: running } = await agent({ faults: { failLivePart: true } });
    await attach(app);
    const base = validCreate();
    const mutated = fc.record(
      {
        snapshot: fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              volume_id: fc.oneof(fc.constant(VOLUME), fc.jsonValue()),
              create_info: fc.oneof(
                fc.jsonValue(),
                fc.dictionary(fc.constantFrom('snapshot_id', 'type', 'new_file', 'id', 'other'), fc.oneof(fc.string(), fc.constant('qcow2'), fc.jsonValue())),
              ),
              extra: fc.jsonValue(),
            },
            { requiredKeys: [] },
          ),
        ),
        more: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), mutated, fc.constant(base)), async (body) => {
        const res = await app.request('/v2.1/os-assisted-volume-snapshots', json(body));
        expect(res.status).toBeLessThan(500);
        if (res.status !== 200) expect(res.status).toBe(400);
      }),
      { numRuns: 300 },
    );
    await running.idle();
  });
});

describe('DELETE /v2.1/os-assisted-volume-snapshots/{id}', () => {
  const info = { type: 'qcow2', volume_id: VOLUME, file_to_merge: null, merge_target_file: null };
  const q = (value: unknown) => `delete_info=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`;

  it.each([
    ['no delete_info', ''],
    ['delete_info that is not JSON', q('{not json')],
    ['delete_info that is a JSON string', q('"x"')],
    ['delete_info without volume_id', q({ type: 'qcow2' })],
    ['delete_info nested 5,000 levels deep', q(`${'['.repeat(5_000)}${']'.repeat(5_000)}`)],
    ['delete_info with a NUL character', q('{"type":"qcow2\\u0000"}')],
  ])('answers 400 for %s', async (_name, query) => {
    const { app } = await agent();
    await attach(app);
    const res = await app.request(`/v2.1/os-assisted-volume-snapshots/s1?${query}`, { method: 'DELETE' });
    expect(res.status).toBe(400);
    expect(Object.keys((await res.json()) as object)).toEqual(['badRequest']);
  });

  it('answers 400 for a volume no instance has attached', async () => {
    const { app } = await agent();
    const res = await app.request(`/v2.1/os-assisted-volume-snapshots/s1?${q(info)}`, { method: 'DELETE' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ badRequest: { code: 400, message: `No volume Block Device Mapping with id ${VOLUME}.` } });
  });

  it('answers 204 with no body once accepted', async () => {
    const parts = await agent({ faults: { failLivePart: true } });
    await attach(parts.app);
    const res = await parts.app.request(`/v2.1/os-assisted-volume-snapshots/s1?${q(info)}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    await parts.agent.idle();
  });

  it('ignores unknown query parameters before 2.75 and refuses them from 2.75 on', async () => {
    const parts = await agent({ faults: { failLivePart: true } });
    await parts.app.request(`/v2.1/servers/${SERVER}/os-volume_attachments`, json({ volumeAttachment: { volumeId: VOLUME } }));
    const url = `/v2.1/os-assisted-volume-snapshots/s1?${q(info)}&foo=bar`;
    const old = await parts.app.request(url, { method: 'DELETE', headers: { 'X-OpenStack-Nova-API-Version': '2.1' } });
    expect(old.status).toBe(204);
    expect(old.headers.get('X-OpenStack-Nova-API-Version')).toBe('2.1');
    const strict = await parts.app.request(url, { method: 'DELETE', headers: { 'OpenStack-API-Version': 'compute 2.75' } });
    expect(strict.status).toBe(400);
    const unsupported = await parts.app.request(url, { method: 'DELETE', headers: { 'X-OpenStack-Nova-API-Version': '3.0' } });
    expect(unsupported.status).toBe(406);
    await parts.agent.idle();
  });

  it('never answers 5xx to arbitrary delete_info (fast-check)', async () => {
    const parts = await agent({ faults: { failLivePart: true } });
    await attach(parts.app);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.record({ volume_id: fc.oneof(fc.constant(VOLUME), fc.jsonValue()), type: fc.jsonValue(), file_to_merge: fc.jsonValue(), merge_target_file: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v))),
        async (value) => {
          const res = await parts.app.request(`/v2.1/os-assisted-volume-snapshots/s1?delete_info=${encodeURIComponent(value)}`, { method: 'DELETE' });
          expect([204, 400]).toContain(res.status);
        },
      ),
      { numRuns: 300 },
    );
    await parts.agent.idle();
  });
});

describe('create answer shape', () => {
  it('answers 200 with the snapshot view, echoing create_info.id like Nova', async () => {
    const parts = await agent({ faults: { failLivePart: true } });
    await attach(parts.app);
    const res = await parts.app.request('/v2.1/os-assisted-volume-snapshots', json(validCreate()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ snapshot: { id: null, volumeId: VOLUME } });
    const withId = validCreate();
    (withId.snapshot.create_info as Record<string, string>).id = 'abc';
    (withId.snapshot.create_info as Record<string, string>).snapshot_id = 's2';
    const res2 = await parts.app.request('/v2.1/os-assisted-volume-snapshots', json(withId));
    expect(await res2.json()).toEqual({ snapshot: { id: 'abc', volumeId: VOLUME } });
    await parts.agent.idle();
  });

  it('refuses with 400 when told to (fault injection)', async () => {
    const { app } = await agent({ faults: { refuseRequests: true } });
    await attach(app);
    const res = await app.request('/v2.1/os-assisted-volume-snapshots', json(validCreate()));
    expect(res.status).toBe(400);
  });
});

describe('volume attachments', () => {
  it('plays Nova’s legacy attach against the storage API and remembers it across a restart', async () => {
    const first = await agent();
    const res = await attach(first.app, { volumeAttachment: { volumeId: VOLUME, device: '/dev/vdc' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ volumeAttachment: { id: VOLUME, serverId: SERVER, volumeId: VOLUME, device: '/dev/vdc' } });

    expect(storage.actions(VOLUME).map((a) => a.action)).toEqual(['os-reserve', 'os-initialize_connection', 'os-attach']);
    expect(storage.actions(VOLUME)[2]!.args).toEqual({ instance_uuid: SERVER, mountpoint: '/dev/vdc', mode: 'rw' });
    const headers = storage.requests[0]!.headers;
    expect(headers['x-auth-token']).toBe('nova:svc');
    expect(headers['openstack-api-version']).toBe('volume 3.0');
    expect(headers['content-type']).toBe('application/json');

    const persisted = JSON.parse(await readFile(path.join(share.dir, AGENT_STATE_FILE_NAME), 'utf8'));
    expect(persisted.instances[SERVER][VOLUME].activeFile).toBe(`volume-${VOLUME}`);

    const restarted = await agent();
    const list = await restarted.app.request(`/v2.1/servers/${SERVER}/os-volume_attachments`);
    expect(await list.json()).toEqual({ volumeAttachments: [{ id: VOLUME, serverId: SERVER, volumeId: VOLUME, device: '/dev/vdc' }] });
    const again = await attach(restarted.app);
    expect(again.status).toBe(400);

    const detach = await restarted.app.request(`/v2.1/servers/${SERVER}/os-volume_attachments/${VOLUME}`, { method: 'DELETE' });
    expect(detach.status).toBe(202);
    expect(storage.actions(VOLUME).slice(-3).map((a) => a.action)).toEqual(['os-begin_detaching', 'os-terminate_connection', 'os-detach']);
    const empty = await restarted.app.request(`/v2.1/servers/${SERVER}/os-volume_attachments`);
    expect(await empty.json()).toEqual({ volumeAttachments: [] });
    const missing = await restarted.app.request(`/v2.1/servers/${SERVER}/os-volume_attachments/${VOLUME}`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
  });

  it('picks the next free device when none is given', async () => {
    const { app } = await agent();
    const res = await attach(app);
    expect(((await res.json()) as { volumeAttachment: { device: string } }).volumeAttachment.device).toBe('/dev/vdb');
  });

  it('rolls the storage side back when os-attach is refused', async () => {
    storage.actionAnswers.set('os-attach', [{ status: 400, body: { badRequest: { code: 400, message: 'Invalid volume: nope' } } }]);
    const { app } = await agent();
    const res = await attach(app);
    expect(res.status).toBe(400);
    expect(storage.actions(VOLUME).map((a) => a.action)).toEqual([
      'os-reserve',
      'os-initialize_connection',
      'os-attach',
      'os-terminate_connection',
      'os-unreserve',
    ]);
    const list = await app.request(`/v2.1/servers/${SERVER}/os-volume_attachments`);
    expect(await list.json()).toEqual({ volumeAttachments: [] });
  });

  it('answers 404 for a volume the storage service does not know', async () => {
    storage.actionAnswers.set('os-reserve', [{ status: 404, body: { itemNotFound: { code: 404, message: 'Volume x could not be found.' } } }]);
    const { app } = await agent();
    expect((await attach(app)).status).toBe(404);
  });

  it('validates the attach body against Nova’s schema', async () => {
    const { app } = await agent();
    for (const body of [
      {},
      { volumeAttachment: { volumeId: 'not-a-uuid' } },
      { volumeAttachment: { volumeId: VOLUME, device: 'vdb' } },
      { volumeAttachment: { volumeId: VOLUME, tag: 'x' } },
    ]) {
      expect((await attach(app, body)).status).toBe(400);
    }
    expect((await app.request('/v2.1/servers/not-a-uuid/os-volume_attachments')).status).toBe(404);
    expect(storage.requests).toHaveLength(0);
  });
});

describe('GET /agent/v1/volumes/{id}/active (the status extension; Nova has no such API)', () => {
  it('names the file the instance holding the volume has open, null when none holds it; 404 for a bad id', async () => {
    const { app } = await agent();
    const before = await app.request(`/agent/v1/volumes/${VOLUME}/active`);
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ active: { volume_id: VOLUME, instance_id: null, active_file: null } });
    expect((await attach(app)).status).toBe(200);
    const after = await app.request(`/agent/v1/volumes/${VOLUME}/active`);
    expect(await after.json()).toEqual({ active: { volume_id: VOLUME, instance_id: SERVER, active_file: `volume-${VOLUME}` } });
    const bad = await app.request('/agent/v1/volumes/not-a-uuid/active');
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ itemNotFound: { code: 404 } });
    // Read only: the extension is not under Nova's /v2.1 and takes no writes.
    expect((await app.request(`/agent/v1/volumes/${VOLUME}/active`, { method: 'POST' })).status).toBe(404);
  });
});
