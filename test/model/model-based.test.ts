// Model-based tests: xstate/graph enumerates paths through the snapshot machine, and each path is
// replayed against the real manager, worker and sweeper on a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { initialSnapshot, leafPhases, phaseOf, step as machineStep } from '../../machines/derive.js';
import { snapshotMachine } from '../../machines/snapshot.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, type Harness } from '../support/harness.js';
import { candidateEvents, PathRunner, serializeState, WAITS } from './paths.js';

const describePath = (steps: { event: { type: string } }[]) => steps.map((s) => JSON.stringify(s.event)).join(' -> ');

const shortest = getShortestPaths(snapshotMachine, { events: candidateEvents, serializeState });

// Simple paths through the whole graph are many (admin actions connect every state to every
// other); bound them to the non-admin events, which is where the phases and their ordering live.
const simple = getSimplePaths(snapshotMachine, {
  events: (s) => candidateEvents(s).filter((e) => !e.type.startsWith('admin.')),
  serializeState,
}).filter((p) => p.steps.length <= 8);

describe('the graph itself', () => {
  it('reaches every persisted phase by some shortest path', () => {
    const reached = new Set(shortest.map((p) => phaseOf(p.state)));
    expect([...reached].sort()).toEqual([...leafPhases].sort());
  });
  it('has a bounded, non-trivial set of simple paths', () => {
    expect(simple.length).toBeGreaterThan(shortest.length);
  });
});

describe.each(providers)('machine paths replayed on %s', (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(await freshDatabaseUrl(provider), { engine: { computeWaitSeconds: WAITS } });
  });
  afterAll(async () => {
    await h?.close();
  });

  // The graph supplies the event sequence; the expected state after each event is recomputed
  // from the machine along this very path (graph vertices are shared by paths, so their stored
  // context may come from another path).
  const replay = async (path: (typeof shortest)[number]) => {
    const runner = new PathRunner(h);
    let expected = initialSnapshot();
    for (const [i, { event }] of path.steps.entries()) {
      if (i === 0) continue; // the initial state, before the snapshot exists
      const next = machineStep(expected, event);
      expect(next.accepted).toBe(true);
      await runner.cause(event, expected);
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
