// The guest pause window, proved on the machine's graph: xstate/graph reaches every state (with
// and without a pause asked for), every candidate event is offered in each, and "a way out of the
// window queues exactly one resume" must hold for all of them. Then each way out is replayed on a
// real database through the manager, worker and sweeper: the resume job is there, carries out,
// survives an unreachable compute, and the history row of the transition says how long it lasted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { initialSnapshot, phaseOf, step as machineStep, type MachineSnapshot } from '../../machines/derive.js';
import { snapshotMachine, type SnapshotEvent } from '../../machines/snapshot.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { TestAgentCompute } from '../support/doubles.js';
import { harness, type Harness } from '../support/harness.js';
import { candidateEvents, PathRunner, serializeState, WAITS } from './paths.js';

const WINDOW = 'creating.computeAssisted';
const events = (s: MachineSnapshot): SnapshotEvent[] => [...candidateEvents(s), { type: 'snapshot.create', assisted: true, pauseGuest: true }];
const serialize = (s: MachineSnapshot) => `${serializeState(s)}|${s.context.pauseGuest === true}|${s.context.guestPaused === true}`;
const open = (s: MachineSnapshot) => s.context.guestPaused === true;

const paths = getShortestPaths(snapshotMachine, { events, serializeState: serialize });

/** Every accepted step from every reachable state: the graph's edges, each with the path to its source. */
const edges = paths.flatMap((path) => {
  // The path's own end state, recomputed along it (graph vertices are shared between paths).
  let state = initialSnapshot();
  for (const { event } of path.steps.slice(1)) state = machineStep(state, event).next;
  return events(state).flatMap((event) => {
    const r = machineStep(state, event);
    return r.accepted ? [{ path, from: state, event, to: r.next, effects: r.effects }] : [];
  });
});
const exits = edges.filter((e) => open(e.from) && !open(e.to));
const describeEvent = (e: SnapshotEvent) => JSON.stringify(e);

describe('the pause window over the whole graph', () => {
  it('opens only with a create that asked for a pause, and only in the create compute phase', () => {
    const openStates = paths.map((p) => p.state).filter(open);
    expect(openStates.length).toBeGreaterThan(0);
    for (const s of openStates) {
      expect(phaseOf(s)).toBe(WINDOW);
      expect(s.context.pauseGuest).toBe(true);
    }
    // The same phase without a pause asked for exists too, and there the window is shut.
    expect(paths.some((p) => phaseOf(p.state) === WINDOW && !open(p.state))).toBe(true);
  });

  it('every way out queues exactly one resume; staying queues none; nothing else ever queues one', () => {
    expect(edges.length).toBeGreaterThan(100);
    for (const e of edges) {
      const resumes = e.effects.filter((k) => k === 'resumeGuest').length;
      const left = open(e.from) && !open(e.to);
      expect({ event: e.event, from: phaseOf(e.from), resumes }).toEqual({ event: e.event, from: phaseOf(e.from), resumes: left ? 1 : 0 });
      if (open(e.from) && open(e.to)) expect(phaseOf(e.to)).toBe(WINDOW);
    }
  });

  it('the ways out include failure, refusal, timeout, every admin reset and both force deletes', () => {
    const kinds = new Set(exits.map((e) => (e.event.type === 'admin.reset_status' ? `reset:${e.event.status}` : e.event.type === 'admin.force_delete' ? `force_delete:${e.event.assisted}` : e.event.type)));
    for (const k of ['compute.status', 'compute.failed', 'timer.expired', 'reset:available', 'reset:error', 'reset:error_deleting', 'force_delete:true', 'force_delete:false']) {
      expect(kinds).toContain(k);
    }
    // A failure callback is among them, not only the completing one.
    expect(exits.some((e) => e.event.type === 'compute.status' && (e.event.status === 'error' || e.event.computeStatus === 'error'))).toBe(true);
    expect(exits.some((e) => e.to.context.reason === null && phaseOf(e.to) === 'creating.storageComplete')).toBe(true);
  });
});

describe.each(providers)('each way out of the window, replayed on %s', (provider) => {
  let h: Harness;
  let compute: TestAgentCompute;
  beforeAll(async () => {
    compute = new TestAgentCompute();
    h = await harness(await freshDatabaseUrl(provider), { compute, engine: { computeWaitSeconds: WAITS } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const resumeJobs = (snapshotId: string) => h.db.prisma.outboxJob.findMany({ where: { snapshotId, kind: 'resumeGuest' } });

  it.each(exits.map((e) => [`${e.path.steps.slice(1).map((s) => s.event.type).join(' -> ')} -> ${describeEvent(e.event)}`, e] as const))(
    '%s',
    async (_name, exit) => {
      const runner = new PathRunner(h);
      let expected = initialSnapshot();
      const steps = [...exit.path.steps.slice(1).map((s) => s.event), exit.event];
      for (const [i, event] of steps.entries()) {
        const next = machineStep(expected, event);
        await runner.cause(event, expected);
        await runner.expectPersisted(next.next, i + 1);
        expected = next.next;
        if (i < steps.length - 1) expect(await resumeJobs(runner.snapshotId)).toEqual([]);
      }
      // The create asked compute to pause (the extension key), and the window's end owes a resume.
      const create = compute.requests.find((r) => r.op === 'create' && r.id === runner.snapshotId);
      if (create) expect(create.info.pause_guest).toBe(true);
      const [job, ...more] = await resumeJobs(runner.snapshotId);
      expect(more).toEqual([]);
      expect(job).toMatchObject({ status: 'pending' });
      const history = await h.db.prisma.snapshotTransition.findMany({ where: { snapshotId: runner.snapshotId, rejected: false }, orderBy: { id: 'asc' } });
      const closing = JSON.parse(history.at(-1)!.payload!) as { paused_ms: number };
      expect(closing.paused_ms).toBe(exit.event.type === 'timer.expired' ? WAITS.create * 1000 : 0);
      expect(history.slice(0, -1).every((t) => !(t.payload ?? '').includes('paused_ms'))).toBe(true);

      // Compute is unreachable twice (an agent restarting); the job is retried, not given up.
      compute.failResumes = 2;
      const before = compute.resumes.length;
      for (let attempt = 0; attempt < 3; attempt++) {
        await h.worker.drain();
        h.clock.advance(60);
      }
      expect(compute.resumes.slice(before)).toContainEqual({ volumeId: runner.volumeId, snapshotId: runner.snapshotId });
      expect((await resumeJobs(runner.snapshotId)).map((j) => j.status)).toEqual(['done']);
    },
  );
});
