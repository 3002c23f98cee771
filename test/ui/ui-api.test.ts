// The UI's JSON and event-stream endpoints without a browser: same auth and policy as the API,
// project scoping, and the SSE wire format the page parses.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotMachine } from '../../machines/snapshot.js';
import { volumeMachine } from '../../machines/volume.js';
import { createSnapshot, createVolume, startTestService, type TestService } from '../observability/helpers.js';

function policyFile(rules: Record<string, unknown>): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ui-policy-')), 'policy.json');
  writeFileSync(file, JSON.stringify(rules));
  return file;
}

/** Reads Server-Sent Events off a fetch() body, as the page does. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<{ event: string; data: unknown; id?: string }> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) continue;
          const field = (name: string) => block.split('\n').filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
          return { event: field('event')[0] ?? 'message', data: JSON.parse(field('data').join('\n')), id: field('id')[0] };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('/ui/api', () => {
  const services: TestService[] = [];
  afterEach(async () => {
    for (const t of services.splice(0)) await t.close();
  });
  const start = async (env: Record<string, string> = {}) => {
    const t = await startTestService({ env });
    services.push(t);
    return t;
  };
  const get = (t: TestService, p: string, token: string) => t.service.app.request(`/ui/api/${p}`, { headers: { 'X-Auth-Token': token } });

  it('serves the chart as read off the machine', async () => {
    const t = await start();
    const graph = (await (await get(t, 'machine', 'admin:admin')).json()) as { id: string; root: { children: Array<{ key: string }> } };
    expect(graph.id).toBe(snapshotMachine.id);
    expect(graph.root.children.map((c) => c.key)).toEqual(Object.keys(snapshotMachine.config.states!));
  });

  it('serves the volume chart as read off the volume machine, and one volume with its history', async () => {
    const t = await start();
    const graph = (await (await get(t, 'volume-machine', 'admin:admin')).json()) as { id: string; root: { children: Array<{ key: string }> } };
    expect(graph.id).toBe(volumeMachine.id);
    expect(graph.root.children.map((c) => c.key)).toEqual(Object.keys(volumeMachine.config.states!));
    const id = await createVolume(t, 'charted', false);
    const shown = (await (await get(t, `volumes/${id}`, 'admin:admin')).json()) as { volume: Record<string, unknown>; transitions: Array<{ event: string; toPhase: string; rejected: boolean }> };
    expect(shown.volume).toMatchObject({ id, name: 'charted', status: 'available', phase: 'available', attachStatus: 'detached', version: 2, errorReason: null });
    expect(shown.transitions.map((x) => [x.event, x.toPhase, x.rejected])).toEqual([
      ['volume.create', 'creating', false],
      ['storage.done', 'available', false],
    ]);
    expect((await get(t, 'volumes/00000000-0000-4000-8000-000000000000', 'admin:admin')).status).toBe(404);
    // Scoped like everything else under /ui/api: another project's caller does not see it.
    const scoped = await start({ POLICY_FILE: policyFile({ 'snapshot:transitions': 'project' }) });
    const theirs = await createVolume(scoped, 'theirs', false);
    expect((await get(scoped, `volumes/${theirs}`, 'someone:elsewhere')).status).toBe(404);
    expect((await get(scoped, `volumes/${theirs}`, 'tester:demo')).status).toBe(200);
  });

  it('refuses callers the snapshot:transitions rule does not allow', async () => {
    const t = await start({ POLICY_FILE: policyFile({ 'snapshot:transitions': [] }) });
    const res = await get(t, 'overview', 'admin:admin');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ forbidden: { code: 403, message: "Policy doesn't allow snapshot:transitions to be performed." } });
  });

  it("shows only the caller's project when the rule is granted by project, not by role", async () => {
    const t = await start({ POLICY_FILE: policyFile({ 'snapshot:transitions': 'project' }) });
    const mine = await createVolume(t, 'mine', false);
    await t.call('POST', '/v3/other/volumes', { volume: { size: 1, name: 'theirs' } }, { 'X-Auth-Token': 'someone:other' });
    const overview = (await (await get(t, 'overview', 'tester:demo')).json()) as { volumes: Array<{ id: string }> };
    expect(overview.volumes.map((v) => v.id)).toEqual([mine]);
    const session = (await (await get(t, 'session', 'tester:demo')).json()) as { scope: string };
    expect(session.scope).toBe('project demo');
  });

  it('streams each committed history row as an SSE event after a ready event', async () => {
    const t = await start();
    const res = await get(t, 'events', 'admin:admin');
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseReader(res.body!);
    expect((await events.next()).event).toBe('ready');

    const id = await createSnapshot(t, await createVolume(t, 'streamed', false), 'streamed');
    const seen: Array<{ event: string; toPhase: string; id: string | undefined }> = [];
    while (!seen.some((e) => e.toPhase === 'available')) {
      const message = await events.next();
      if (message.event !== 'transition') continue;
      const { transition, snapshot } = message.data as { transition: { snapshotId: string; event: string; toPhase: string; id: number }; snapshot: { id: string } };
      if (transition.snapshotId !== id) continue;
      expect(snapshot.id).toBe(id);
      expect(message.id).toBe(String(transition.id));
      seen.push({ event: transition.event, toPhase: transition.toPhase, id: message.id });
    }
    expect(seen.map((e) => `${e.event} -> ${e.toPhase}`)).toEqual(['snapshot.create -> creating.driverCreate', 'storage.done -> available']);
    await events.cancel();
  });

  it('pages snapshots newest first, scoped to the caller, and answers bad paging input with a 400 fault', async () => {
    const t = await start({ POLICY_FILE: policyFile({ 'snapshot:transitions': 'project' }) });
    const volume = await createVolume(t, 'paged', false);
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const id = await createSnapshot(t, volume, name);
      await t.log.reached(id, 'available');
      ids.push(id);
    }
    await t.call('POST', '/v3/other/volumes', { volume: { size: 1, name: 'theirs' } }, { 'X-Auth-Token': 'someone:other' });
    type Page = { snapshots: Array<{ id: string; status: string; lastRejection: unknown }>; next: string | null };
    const first = (await (await get(t, 'snapshots?limit=2', 'tester:demo')).json()) as Page;
    expect(first.snapshots.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    expect(first.snapshots[0]!.lastRejection).toBeNull();
    const second = (await (await get(t, `snapshots?limit=2&after=${first.next}`, 'tester:demo')).json()) as Page;
    expect([second.snapshots.map((s) => s.id), second.next]).toEqual([[ids[0]], null]);
    // Another project's caller sees none of them, even when asking for this project by filter.
    const theirs = (await (await get(t, 'snapshots?project=demo', 'someone:other')).json()) as Page;
    expect(theirs.snapshots).toEqual([]);
    for (const [query, message] of [
      ['limit=0', "Invalid limit '0'"],
      ['limit=201', "Invalid limit '201'"],
      ['limit=ten', "Invalid limit 'ten'"],
      ['status=bogus', "Invalid status 'bogus'"],
      ['phase=creating', "Invalid phase 'creating'"],
      ['after=00000000-0000-4000-8000-000000000000', "Invalid after '00000000-0000-4000-8000-000000000000'"],
    ]) {
      const res = await get(t, `snapshots?${query}`, 'tester:demo');
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { badRequest: { code: number; message: string } }).badRequest.message).toContain(message);
    }
  });

  it('lists what needs attention with the thresholds from the settings, and the phase durations of the last hour', async () => {
    const t = await start({ UI_STUCK_AFTER_SECONDS: '1', UI_NEAR_DEADLINE_SECONDS: '7200' });
    const volume = await createVolume(t, 'attached', true);
    const waiting = await createSnapshot(t, volume, 'waiting');
    await t.log.reached(waiting, 'creating.computeAssisted');
    const attention = (await (await get(t, 'attention', 'admin:admin')).json()) as {
      stuckAfterSeconds: number;
      nearDeadlineSeconds: number;
      snapshots: Array<{ id: string; reasons: string[] }>;
    };
    expect([attention.stuckAfterSeconds, attention.nearDeadlineSeconds]).toEqual([1, 7200]);
    expect(attention.snapshots.map((s) => s.id)).toEqual([waiting]);
    // Near its deadline (two hours is more than the create wait); stuck only once a second has passed.
    expect(attention.snapshots[0]!.reasons[0]).toBe('deadline');
    const durations = (await (await get(t, 'phase-durations', 'admin:admin')).json()) as { windowSeconds: number; phases: Array<{ phase: string; count: number; outcomes: Record<string, number> }> };
    expect(durations.windowSeconds).toBe(3600);
    expect(durations.phases.find((p) => p.phase === 'creating.storageBegin')).toMatchObject({ count: 1, outcomes: { ok: 1 } });
  });
});
