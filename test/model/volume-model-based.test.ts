// Model-based tests of the volume machine: xstate/graph enumerates paths through
// machines/volume.ts, and each path is replayed against the real manager and outbox worker on
// SQLite and PostgreSQL (test/model/volume-paths.ts turns each event into its request).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { initialVolumeSnapshot, stepVolume, volumeLeafPhases, volumePhaseOf } from '../../machines/volume-derive.js';
import { volumeMachine } from '../../machines/volume.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, type Harness } from '../support/harness.js';
import { serializeVolumeState, volumeCandidateEvents, VolumePathRunner } from './volume-paths.js';

const describePath = (steps: { event: { type: string } }[]) => steps.map((s) => JSON.stringify(s.event)).join(' -> ');

const shortest = getShortestPaths(volumeMachine, { events: volumeCandidateEvents, serializeState: serializeVolumeState });

// Admin resets connect every state to every other; the simple paths are bounded to the requests
// and driver results, which is where the attach flow and its order live.
const simple = getSimplePaths(volumeMachine, {
  events: (s) => volumeCandidateEvents(s).filter((e) => e.type !== 'os-reset_status' && e.type !== 'os-force_delete'),
  serializeState: serializeVolumeState,
}).filter((p) => p.steps.length <= 9);

describe('the volume graph itself', () => {
  it('reaches every phase by some shortest path', () => {
    const reached = new Set(shortest.map((p) => volumePhaseOf(p.state)));
    expect([...reached].sort()).toEqual([...volumeLeafPhases].sort());
  });
  it('has a bounded, non-trivial set of simple paths', () => {
    expect(simple.length).toBeGreaterThan(10);
    expect(simple.length).toBeLessThan(2000);
  });
});

describe.each(providers)('volume machine paths replayed on %s', (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(await freshDatabaseUrl(provider));
  });
  afterAll(async () => {
    await h?.close();
  });

  // The expected state after each event is recomputed from the machine along this very path
  // (graph vertices are shared by paths, so their stored context may come from another path).
  const replay = async (path: (typeof shortest)[number]) => {
    const runner = new VolumePathRunner(h);
    let expected = initialVolumeSnapshot();
    for (const [i, { event }] of path.steps.entries()) {
      if (i === 0) continue; // the initial state, before the volume exists
      const next = stepVolume(expected, event);
      expect(next.accepted).toBe(true);
      await runner.cause(event);
      await runner.expectPersisted(next.next, i);
      expected = next.next;
    }
  };

  it.each(shortest.map((p) => [describePath(p.steps.slice(1)), p] as const))('shortest: %s', async (_name, path) => {
    await replay(path);
  });

  it.each(simple.map((p) => [describePath(p.steps.slice(1)), p] as const))('simple: %s', async (_name, path) => {
    await replay(path);
  });
});
