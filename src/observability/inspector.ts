// INSPECT=1 (or --inspect): every persisted transition goes to the Stately inspector
// (@statelyai/inspect, createWebSocketInspector), one inspected actor per snapshot.
//
// No XState actor runs in this service: the engine steps the pure machine and stores the
// result. So the actors are registered by hand, through the inspector's `actor` / `event` /
// `snapshot` calls, with the machine definition (the inspector reads `logic.config`) and the
// state as persisted. The states come from the transition feed (the history table), so
// transitions committed by other processes are inspected too. Each accepted row is replayed
// through the same pure `step` the engine used, from the previous state, which gives the exact
// context at that version even when the row has moved on since; a snapshot first seen mid-life
// is caught up by replaying its earlier history. A row that does not replay re-syncs from the
// stored machine state.
import { createWebSocketInspector } from '@statelyai/inspect';
import type { AnyEventObject } from 'xstate';
import { initialSnapshot, phaseOf, restore, step, type MachineSnapshot } from '../../machines/derive.js';
import { snapshotMachine, type SnapshotEvent } from '../../machines/snapshot.js';
import type { SnapshotTransition } from '../db/client.js';
import type { SnapshotStore } from '../engine/store/index.js';
import type { FeedBatch, TransitionFeed } from '../engine/transition-feed.js';

type Inspector = ReturnType<typeof createWebSocketInspector>;
type InspectedActor = Parameters<Inspector['actor']>[0];

interface Tracked {
  ref: InspectedActor;
  version: number;
  snapshot: MachineSnapshot;
}

const inspected = (s: MachineSnapshot) => ({ status: s.status, value: s.value, context: s.context });

/** The event a history row records: its type plus the summarised fields. */
export function eventOf(row: Pick<SnapshotTransition, 'eventType' | 'payload'>): AnyEventObject {
  let fields: Record<string, unknown> = {};
  if (row.payload) {
    try {
      fields = JSON.parse(row.payload) as Record<string, unknown>;
    } catch {
      // A payload cut at the history's size limit is no longer JSON; the type still says what happened.
      fields = { payload: row.payload };
    }
  }
  return { ...fields, type: row.eventType };
}

export type SnapshotInspectorOptions = (
  | { /** The inspector's WebSocket (the service passes INSPECT_URL). */ url: string; inspector?: undefined }
  | { /** For tests: an inspector other than the WebSocket one. */ inspector: Pick<Inspector, 'actor' | 'event' | 'snapshot' | 'stop'> }
) & { onError?: (err: unknown) => void };

export class SnapshotInspector {
  private readonly inspector: Pick<Inspector, 'actor' | 'event' | 'snapshot' | 'stop'>;
  private readonly tracked = new Map<string, Tracked>();
  private readonly unsubscribe: () => void;
  /** Batches are applied one after another: a snapshot's rows must reach the inspector in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<SnapshotStore, 'acceptedHistoryBefore'>,
    feed: TransitionFeed,
    private readonly options: SnapshotInspectorOptions,
  ) {
    this.inspector = options.inspector !== undefined ? options.inspector : createWebSocketInspector({ url: options.url });
    this.unsubscribe = feed.subscribe((batch) => {
      this.queue = this.queue.then(() => this.applyBatch(batch));
    });
  }

  stop() {
    this.unsubscribe();
    this.inspector.stop();
  }

  /** Resolves when every batch received so far has been sent on. */
  settled(): Promise<void> {
    return this.queue;
  }

  private async applyBatch(batch: FeedBatch) {
    for (const { transition, snapshot } of batch.items) {
      try {
        await this.apply(transition, snapshot?.machineState ?? null);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }

  /** A stand-in actor ref: the inspector only reads its session id and its logic's config. */
  private refFor(snapshotId: string): InspectedActor {
    return {
      sessionId: `snapshot:${snapshotId}`,
      id: snapshotId,
      logic: snapshotMachine,
      send: () => {},
      getSnapshot: () => this.tracked.get(snapshotId)?.snapshot,
      subscribe: () => ({ unsubscribe: () => {} }),
    } as unknown as InspectedActor;
  }

  /**
   * A snapshot seen for the first time is registered in the state it had just before this row:
   * its earlier history, replayed from the machine's initial state. (When the service started
   * with it, that is simply the initial state before `snapshot.create`.)
   */
  private async track(row: SnapshotTransition, stored: string | null): Promise<Tracked> {
    const ref = this.refFor(row.snapshotId);
    const earlier = await this.store.acceptedHistoryBefore(row.snapshotId, row.id);
    let snapshot: MachineSnapshot = initialSnapshot();
    let version = 0;
    for (const r of earlier) {
      const next = replay(snapshot, r);
      if (!next) {
        // Not replayable (say, a payload cut at the size limit): take the state as stored.
        if (!stored) throw new Error(`snapshot ${row.snapshotId}: history does not replay at version ${r.version}`);
        snapshot = restore(JSON.parse(stored));
        version = Number.POSITIVE_INFINITY;
        break;
      }
      snapshot = next;
      version = r.version;
    }
    const tracked = { ref, version, snapshot };
    this.tracked.set(row.snapshotId, tracked);
    this.inspector.actor(ref, inspected(snapshot));
    return tracked;
  }

  private async apply(row: SnapshotTransition, stored: string | null) {
    const tracked = this.tracked.get(row.snapshotId) ?? (await this.track(row, stored));
    const event = eventOf(row);
    this.inspector.event(tracked.ref, event, { source: row.source });
    if (row.rejected || row.version <= tracked.version) return;
    let next = row.version === tracked.version + 1 ? replay(tracked.snapshot, row) : null;
    if (!next) {
      if (!stored) return;
      next = restore(JSON.parse(stored));
    }
    tracked.snapshot = next;
    tracked.version = row.version;
    this.inspector.snapshot(tracked.ref, inspected(next), { event });
    if (next.status === 'done') this.tracked.delete(row.snapshotId);
  }
}

/** The state after an accepted history row, by the engine's own pure step; null if it disagrees. */
function replay(current: MachineSnapshot, row: SnapshotTransition): MachineSnapshot | null {
  const result = step(current, eventOf(row) as SnapshotEvent);
  return result.accepted && phaseOf(result.next) === row.toPhase ? result.next : null;
}
