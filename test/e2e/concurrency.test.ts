// Issue 4, end to end: concurrency. Snapshots of two volumes in flight at the same time, and
// several requests on one volume sent back to back (each without waiting for the one before):
// the chains stay correct and every snapshot reads its own data.
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
  type LoggedProcess,
  type ServiceProcess,
  type VolumeModel,
} from '../support/e2e.js';

let service: ServiceProcess;
let agent: LoggedProcess;
let cloud: Cloud;
let dir: string;
let share: string;

beforeAll(async () => {
  dir = scratchDir('concurrency');
  share = `${dir}/share`;
  const agentPort = await freePort();
  service = await startService({ share, agentPort });
  agent = await startAgent({ port: agentPort, share, servicePort: service.port });
  cloud = new Cloud(service, agentPort);
});
afterAll(async () => {
  // Both drain and exit 0 on SIGTERM: nothing was left hanging.
  if (agent) expect(await agent.stop()).toBe(0);
  if (service) expect(await service.stop()).toBe(0);
  removeScratch(dir);
});

async function attachedVolume(name: string): Promise<VolumeModel> {
  const volumeId = await cloud.createVolume(name);
  await cloud.attach(randomUUID(), volumeId);
  return { volumeId, snapshots: [], writes: 0, attached: true };
}

async function write(model: VolumeModel) {
  await writeGeneration(share, await activeFile(share, model.volumeId), ++model.writes);
}

/** Every snapshot went through compute once, and nothing it was offered was refused. */
async function expectClean(ids: string[], last: 'available' | 'deleted') {
  for (const id of ids) {
    const history = await cloud.transitions(id);
    expect(history.filter((t) => t.rejected)).toEqual([]);
    expect(acceptedPath(history).at(-1)).toMatch(new RegExp(`-> ${last} `));
    expect(history.filter((t) => t.event === 'compute.status')).toHaveLength(last === 'available' ? 1 : 2);
  }
}

describe('concurrency', () => {
  it('two volumes snapshot and delete concurrently', async () => {
    const volumes = await Promise.all([attachedVolume('a'), attachedVolume('b')]);
    for (let round = 1; round <= 3; round++) {
      // Each round: both volumes are written, then both snapshots are in flight at once.
      await Promise.all(volumes.map(write));
      const results = await Promise.all(volumes.map((v) => cloud.snapshot(v.volumeId, `${v.volumeId.slice(0, 4)}-${round}`)));
      expect(results.map((r) => r.phase)).toEqual(['available', 'available']);
      results.forEach((r, i) => volumes[i].snapshots.push({ id: r.id, writes: volumes[i].writes }));
    }
    await Promise.all(volumes.map(write));
    for (const v of volumes) await verifyVolume(share, v);
    await expectClean(volumes.flatMap((v) => v.snapshots.map((s) => s.id)), 'available');

    // Deletes in flight on both volumes at once: the middle snapshot of one, the newest of the other.
    const doomed = [volumes[0].snapshots[1], volumes[1].snapshots[2]];
    expect(await Promise.all(doomed.map((s) => cloud.deleteSnapshot(s.id)))).toEqual(['deleted', 'deleted']);
    volumes.forEach((v, i) => (v.snapshots = v.snapshots.filter((s) => s.id !== doomed[i].id)));
    for (const v of volumes) await verifyVolume(share, v);
    await expectClean(doomed.map((s) => s.id), 'deleted');
  });

  it('takes snapshot requests sent back to back on one volume one after the other', async () => {
    const model = await attachedVolume('back-to-back');
    await write(model);
    // Two requests, the second sent as soon as the first was accepted (202), then two more
    // after another write: each pair is in flight on the same volume at the same time.
    for (const pair of [1, 2]) {
      const ids = [await cloud.requestSnapshot(model.volumeId, `pair${pair}-a`), await cloud.requestSnapshot(model.volumeId, `pair${pair}-b`)];
      const settled = await Promise.all(ids.map((id) => service.settled(id)));
      expect(settled.map((t) => t.phase)).toEqual(['available', 'available']);
      for (const id of ids) model.snapshots.push({ id, writes: model.writes });
      // Both were in creating at once: the second was requested before the first completed.
      const firstAvailable = service.lines.indexOf(settled[0]);
      const secondRequested = service.lines.findIndex((l) => l.msg === 'snapshot transition' && l.snapshotId === ids[1] && l.phase === 'creating.storageBegin');
      expect(secondRequested).toBeGreaterThanOrEqual(0);
      expect(secondRequested).toBeLessThan(firstAvailable);
      await write(model);
    }
    await verifyVolume(share, model);
    await expectClean(model.snapshots.map((s) => s.id), 'available');

    // All four deletes sent back to back: every delete plan is made on the chain the one before left.
    const ids = model.snapshots.map((s) => s.id);
    for (const id of ids) await cloud.requestDelete(id);
    const settled = await Promise.all(ids.map((id) => service.settled(id, ['deleted', 'error_deleting'])));
    expect(settled.map((t) => t.phase)).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    model.snapshots = [];
    await verifyVolume(share, model);
    await expectClean(ids, 'deleted');
  });
});
