// The guest pause end to end: the service and the compute agent as separate processes, the agent
// in QEMU mode with a real guest. The create asks for the pause through its metadata; the agent
// pauses around the switch; the transition that closes the window carries paused_ms, and the
// resume job reaches the agent's extension over HTTP, also when compute never calls back and the
// deadline closes the window.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cloud, call, freePort, HEADERS, removeScratch, scratchDir, startAgent, startService, type LoggedProcess, type ServiceProcess, type Transition } from '../support/e2e.js';

const PAUSE = { 'assisted_snapshots:pause_guest': 'true' };
const WAIT_SECONDS = 3;

let service: ServiceProcess;
let dir: string;
let share: string;
let agentPort: number;
let cloud: Cloud;

beforeAll(async () => {
  dir = scratchDir('pause');
  share = `${dir}/share`;
  agentPort = await freePort();
  service = await startService({
    share,
    agentPort,
    // The agent's extensions live at its root: the service may then ask for pauses and resumes.
    env: { COMPUTE_AGENT_STATUS_URL: `http://127.0.0.1:${agentPort}`, COMPUTE_WAIT_CREATE_SECONDS: String(WAIT_SECONDS) },
  });
  cloud = new Cloud(service, agentPort);
});
afterAll(async () => {
  if (service) expect(await service.stop()).toBe(0);
  removeScratch(dir);
});

const snapshotWith = async (volumeId: string, metadata: Record<string, string>) =>
  (await call('POST', `${service.base}/snapshots`, { snapshot: { volume_id: volumeId, name: 'p', force: true, metadata } })).snapshot.id as string;
const pausedMs = (history: Transition[]) => history.filter((t) => t.payload && 'paused_ms' in t.payload).map((t) => [t.event, t.payload!.paused_ms]);
const resumeAnswered = (snapshotId: string) =>
  service.waitFor((l) => l.msg === 'guest pause window closed: compute answered the resume' && l.snapshotId === snapshotId, `the resume of ${snapshotId}`);

describe('pausing the guest, service and agent (QEMU mode) as processes', () => {
  let agent: LoggedProcess;
  let volumeId: string;
  beforeAll(async () => {
    agent = await startAgent({ port: agentPort, share, servicePort: service.port, mode: 'qemu' });
    volumeId = await cloud.createVolume('paused');
    await cloud.attach(randomUUID(), volumeId);
  });
  afterAll(async () => {
    if (agent) expect(await agent.stop()).toBe(0);
  });

  it('a create that asks for the pause: the agent pauses around the switch, the closing callback carries paused_ms, the resume is answered', async () => {
    const id = await snapshotWith(volumeId, PAUSE);
    expect((await service.settled(id)).phase).toBe('available');
    const [[event, ms]] = pausedMs(await cloud.transitions(id)) as [[string, number]];
    expect(event).toBe('compute.status');
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(WAIT_SECONDS * 1000);
    await agent.waitFor((l) => l.msg === 'guest paused for the overlay switch, and resumed', 'the pause');
    // The agent had already resumed the guest itself: the owed resume finds nothing to do.
    expect((await resumeAnswered(id)).result).toEqual({ resumed: false, instanceId: expect.any(String) });
  });

  it("a volume type whose extra spec asks for it pauses without the metadata key, and the key still wins over the type", async () => {
    const type = (await call('POST', `${service.base}/types`, { volume_type: { name: `pausing-${randomUUID()}`, extra_specs: PAUSE } })).volume_type.name as string;
    const typed = await cloud.createVolume('typed', type);
    await cloud.attach(randomUUID(), typed);
    const byType = await snapshotWith(typed, {});
    expect((await service.settled(byType)).phase).toBe('available');
    expect(pausedMs(await cloud.transitions(byType))).toEqual([['compute.status', expect.any(Number)]]);
    const refused = await snapshotWith(typed, { 'assisted_snapshots:pause_guest': 'false' });
    expect((await service.settled(refused)).phase).toBe('available');
    expect(pausedMs(await cloud.transitions(refused))).toEqual([]);
  });

  it('a create without it: no pause window, no resume, no paused_ms', async () => {
    const id = await snapshotWith(volumeId, {});
    expect((await service.settled(id)).phase).toBe('available');
    expect(pausedMs(await cloud.transitions(id))).toEqual([]);
    expect(service.lines.some((l) => l.snapshotId === id && l.msg === 'guest pause window closed: compute answered the resume')).toBe(false);
  });

  it('a pause_guest value that is not a boolean is refused with 400 in the OpenStack fault format', async () => {
    const res = await fetch(`${service.base}/snapshots`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ snapshot: { volume_id: volumeId, force: true, metadata: { 'assisted_snapshots:pause_guest': 'perhaps' } } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { badRequest: { message: string } }).badRequest.message).toContain('assisted_snapshots:pause_guest');
  });
});

describe('compute never calls back: the deadline closes the window', () => {
  let agent: LoggedProcess;
  beforeAll(async () => {
    agent = await startAgent({ port: agentPort, share, servicePort: service.port, mode: 'qemu', faults: ['never-call-back'] });
  });
  afterAll(async () => {
    if (agent) expect(await agent.stop()).toBe(0);
  });

  it('timer.expired carries paused_ms of at least the wait, and the resume reaches the agent', async () => {
    const volumeId = await cloud.createVolume('silent');
    await cloud.attach(randomUUID(), volumeId);
    const id = await snapshotWith(volumeId, PAUSE);
    // The reconcile finds the overlay in use (the agent did switch), so the create completes.
    expect((await service.settled(id, ['available', 'error'], 30_000)).phase).toBe('available');
    const [[event, ms]] = pausedMs(await cloud.transitions(id)) as [[string, number]];
    expect(event).toBe('timer.expired');
    expect(ms).toBeGreaterThanOrEqual(WAIT_SECONDS * 1000);
    expect((await resumeAnswered(id)).result).toMatchObject({ resumed: false });
  });
});
