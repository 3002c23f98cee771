// The engine's typed event bus: listeners hear every emit in order, synchronously, until they leave.
import { describe, expect, it } from 'vitest';
import { EngineEventBus, type EngineEvents } from '../../src/engine/events.js';
import type { CommittedTransition } from '../../src/engine/types.js';

const transition = (version: number): CommittedTransition => ({
  snapshotId: 's1',
  version,
  fromPhase: null,
  toPhase: 'available',
  toStatus: 'available',
  eventType: 'storage.done',
  source: 'driver',
  effects: [],
  at: new Date(0),
  fromPhaseEnteredAt: null,
});

describe('engine event bus', () => {
  it('delivers each transition to every listener, in order, before emit returns', () => {
    const bus = new EngineEventBus();
    const listening: EngineEvents = bus;
    const heard: string[] = [];
    const first = (t: CommittedTransition) => heard.push(`first ${t.version}`);
    listening.on('transition', first);
    listening.on('transition', (t) => heard.push(`second ${t.version}`));
    bus.emit('transition', transition(1));
    expect(heard).toEqual(['first 1', 'second 1']);
    listening.off('transition', first);
    bus.emit('transition', transition(2));
    expect(heard).toEqual(['first 1', 'second 1', 'second 2']);
  });
});
