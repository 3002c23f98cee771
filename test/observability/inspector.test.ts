// The inspector bridge: every persisted transition reaches the Stately inspector as one actor
// per snapshot, first through a recording inspector (what is sent, exactly), then end to end
// through @statelyai/inspect's own WebSocket relay and receiver.
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { afterEach, describe, expect, it } from 'vitest';
import { snapshotMachine } from '../../machines/snapshot.js';
import { SnapshotInspector } from '../../src/observability/inspector.js';
import { TransitionFeed } from '../../src/engine/transition-feed.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';
import { createSnapshot, createVolume, startTestService, type TestService } from './helpers.js';
import { freePort } from '../support/ports.js';

type Call =
  | { kind: 'actor'; sessionId: string; logic: unknown; value: unknown }
  | { kind: 'event'; sessionId: string; event: { type: string } }
  | { kind: 'snapshot'; sessionId: string; value: unknown; context: Record<string, unknown> };

/** Records what the bridge sends, and lets a test wait for a call instead of sleeping. */
class RecordingInspector {
  readonly calls: Call[] = [];
  private waiters: Array<{ match: (c: Call) => boolean; resolve: () => void }> = [];
  private record(call: Call) {
    this.calls.push(call);
    this.waiters = this.waiters.filter((w) => (w.match(call) ? (w.resolve(), false) : true));
  }
  until(match: (c: Call) => boolean, timeoutMs = 10_000): Promise<void> {
    if (this.calls.some(match)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such inspector call within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
  actor = (ref: unknown, snapshot?: { value?: unknown }) => {
    const r = ref as { sessionId: string; logic: unknown };
    this.record({ kind: 'actor', sessionId: r.sessionId, logic: r.logic, value: snapshot?.value });
  };
  event = (ref: unknown, event: unknown) => {
    this.record({ kind: 'event', sessionId: (ref as { sessionId: string }).sessionId, event: event as { type: string } });
  };
  snapshot = (ref: unknown, snapshot: { value?: unknown; context?: unknown }) => {
    const context = snapshot.context as Record<string, unknown>;
    this.record({ kind: 'snapshot', sessionId: (ref as { sessionId: string }).sessionId, value: snapshot.value, context });
  };
  stop = () => {};
}

describe('inspector bridge', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('registers one actor per snapshot with the machine, then sends each event and persisted state', async () => {
    const h: Harness = await harness(await freshDatabaseUrl('sqlite'));
    const feed = new TransitionFeed(h.engine.store, { pollMs: 50 });
    const recorder = new RecordingInspector();
    const bridge = new SnapshotInspector(h.engine.store, feed, { inspector: recorder });
    cleanup.push(() => h.close(), () => feed.stop(), () => bridge.stop());
    await feed.ready();
    h.engine.events.on('transition', () => feed.poke());

    const volume = await volumeFor(h, true);
    const created = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    const session = `snapshot:${created.id}`;
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(created.id, { status: 'creating', progress: '40%' });
    await h.manager.updateSnapshotStatus(created.id, { status: 'creating', progress: '90%' });
    await h.worker.drain();
    await expect(h.manager.updateSnapshotStatus(created.id, { status: 'creating', progress: '90%' })).rejects.toThrow();
    feed.poke(); // the rejection commits no engine event
    await recorder.until((c) => c.kind === 'event' && c.sessionId === session && c.event.type === 'compute.status' && recorder.calls.filter((x) => x.kind === 'event' && x.event.type === 'compute.status').length === 3);

    const mine = recorder.calls.filter((c) => c.sessionId === session);
    const actors = mine.filter((c) => c.kind === 'actor');
    expect(actors).toHaveLength(1);
    expect(actors[0]).toMatchObject({ logic: snapshotMachine, value: 'new' });
    expect(mine.filter((c) => c.kind === 'event').map((c) => (c as { event: { type: string } }).event.type)).toEqual([
      'snapshot.create',
      'storage.done',
      'compute.status',
      'compute.status',
      'storage.done',
      'compute.status',
    ]);
    // One state per accepted event (the rejected one changes nothing), with the context the
    // engine stored at that version: replayed, not guessed.
    const states = mine.filter((c) => c.kind === 'snapshot') as Array<Extract<Call, { kind: 'snapshot' }>>;
    expect(states.map((s) => s.value)).toEqual([
      { creating: 'storageBegin' },
      { creating: 'computeAssisted' },
      { creating: 'computeAssisted' },
      { creating: 'storageComplete' },
      'available',
    ]);
    expect(states.map((s) => s.context.progress)).toEqual(['0%', '0%', '40%', '90%', '100%']);
  });

  it('picks up a snapshot first seen mid-life from its stored state', async () => {
    const h: Harness = await harness(await freshDatabaseUrl('sqlite'));
    cleanup.push(() => h.close());
    const volume = await volumeFor(h, true);
    const created = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();

    const feed = new TransitionFeed(h.engine.store, { pollMs: 50 });
    const recorder = new RecordingInspector();
    const bridge = new SnapshotInspector(h.engine.store, feed, { inspector: recorder });
    cleanup.push(() => feed.stop(), () => bridge.stop());
    await feed.ready();
    h.engine.events.on('transition', () => feed.poke());
    await h.manager.updateSnapshotStatus(created.id, { status: 'creating', progress: '90%' });
    await h.worker.drain();
    await recorder.until((c) => c.kind === 'snapshot' && c.value === 'available');

    // Registered in the state before the first row it saw (its earlier history replayed), then
    // followed row by row.
    expect(recorder.calls.map((c) => c.kind)).toEqual(['actor', 'event', 'snapshot', 'event', 'snapshot']);
    expect(recorder.calls[0]).toMatchObject({ kind: 'actor', value: { creating: 'computeAssisted' } });
    expect(recorder.calls[1]).toMatchObject({ kind: 'event', event: { type: 'compute.status' } });
    expect(recorder.calls[2]).toMatchObject({ kind: 'snapshot', value: { creating: 'storageComplete' }, context: { progress: '90%' } });
    expect(recorder.calls[4]).toMatchObject({ kind: 'snapshot', value: 'available' });
  });

  it('reaches a Stately inspector relay over WebSocket when the service runs with INSPECT=1', async () => {
    const port = await freePort();
    const relay = createInspectorServer({ port, autoOpen: false });
    cleanup.push(() => relay.stop());
    const received: StatelyInspectionEvent[] = [];
    let notify = () => {};
    createWebSocketReceiver({ server: `ws://127.0.0.1:${port}` }).subscribe((e) => {
      received.push(e);
      notify();
    });
    const t: TestService = await startTestService({ env: { INSPECT: '1', INSPECT_URL: `ws://127.0.0.1:${port}` } });
    cleanup.push(() => t.close());
    expect(t.service.observability.inspector).not.toBeNull();

    const id = await createSnapshot(t, await createVolume(t, 'plain', false), 'inspected');
    await t.log.reached(id, 'available');
    const isDone = () => received.some((e) => e.type === '@xstate.snapshot' && e.sessionId === `snapshot:${id}` && (e.snapshot as { value?: unknown }).value === 'available');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the relay never delivered the available state')), 10_000);
      notify = () => isDone() && (clearTimeout(timer), resolve());
      notify();
    });

    const actor = received.find((e) => e.type === '@xstate.actor' && e.sessionId === `snapshot:${id}`);
    expect(actor).toBeDefined();
    const definition = JSON.parse((actor as { definition: string }).definition);
    expect(definition.id).toBe('snapshot');
    // The library serialises with sorted keys; the states are all there.
    expect(Object.keys(definition.states).sort()).toEqual(Object.keys(snapshotMachine.config.states!).sort());
    const events = received.filter((e) => e.type === '@xstate.event' && e.sessionId === `snapshot:${id}`);
    expect(events.map((e) => (e as { event: { type: string } }).event.type)).toEqual(['snapshot.create', 'storage.done']);
  });
});

