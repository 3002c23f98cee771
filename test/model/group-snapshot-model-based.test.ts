// Model-based tests of the group snapshot machine (machines/group-snapshot.ts): xstate/graph
// enumerates paths through the parent machine, and each path is replayed against the real
// manager, group reactor, snapshot machines and outbox worker on SQLite and PostgreSQL: the
// abstract `children.changed` events are caused by running (or failing) the children's real jobs,
// `timer.expired` by moving the clock past the stored deadline and sweeping. After every step the
// persisted parent must be where the machine says, with one accepted history row per step.
import { DEFAULT_VOLUME_TYPE_ID } from '../../src/engine/store/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  groupSnapshotLeafPhases,
  groupSnapshotPhaseOf,
  groupSnapshotStatusOfPhase,
  initialGroupSnapshotSnapshot,
  stepGroupSnapshot,
  type GroupSnapshotMachineSnapshot,
} from '../../machines/group-derive.js';
import { defaultGroupSnapshotWaitSeconds, groupSnapshotMachine, type GroupSnapshotEvent } from '../../machines/group-snapshot.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { createdVolume, harness, type Harness } from '../support/harness.js';

const MEMBERS = 2;

/** The events worth offering: creates with and without members, and the children's outcomes. */
function candidates(state: GroupSnapshotMachineSnapshot): GroupSnapshotEvent[] {
  const phase = groupSnapshotPhaseOf(state);
  return [
    { type: 'group_snapshot.create', members: MEMBERS },
    { type: 'group_snapshot.create', members: 0 },
    { type: 'children.changed', children: { total: MEMBERS, available: MEMBERS, failed: 0 } },
    // A create with one member failed (the other still at work), a delete with one failed (the other gone).
    ...(phase === 'creating' ? [{ type: 'children.changed' as const, children: { total: MEMBERS, available: 0, failed: 1 } }] : []),
    ...(phase === 'deleting' ? [{ type: 'children.changed' as const, children: { total: 1, available: 0, failed: 1 } }] : []),
    { type: 'children.changed', children: { total: 0, available: 0, failed: 0 } },
    { type: 'timer.expired', phase },
    { type: 'group_snapshot.delete', children: state.context.members },
  ];
}

const serialize = (s: GroupSnapshotMachineSnapshot) => `${groupSnapshotPhaseOf(s)}|${s.context.members}`;
const describePath = (steps: { event: { type: string } }[]) => steps.map((s) => JSON.stringify(s.event)).join(' -> ');
/** A timeout leaves children at work that no later step of the model waits for: it ends a path. */
const timeoutLast = (p: { steps: { event: { type: string } }[] }) => {
  const i = p.steps.findIndex((s) => s.event.type === 'timer.expired');
  return i === -1 || i === p.steps.length - 1;
};

const shortest = getShortestPaths(groupSnapshotMachine, { events: candidates, serializeState: serialize }).filter(timeoutLast);
const simple = getSimplePaths(groupSnapshotMachine, { events: candidates, serializeState: serialize }).filter(timeoutLast);

describe('the group snapshot graph itself', () => {
  it('reaches every phase, the reset-only ones aside', () => {
    const reached = new Set([...shortest, ...simple].map((p) => groupSnapshotPhaseOf(p.state)));
    expect([...reached].sort()).toEqual([...groupSnapshotLeafPhases].sort());
  });
  it('has a bounded, non-trivial set of simple paths', () => {
    expect(simple.length).toBeGreaterThan(5);
    expect(simple.length).toBeLessThan(200);
  });
});

describe.each(providers)('group snapshot machine paths replayed on %s', (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(await freshDatabaseUrl(provider));
    h.manager.groupReactor.start();
  });
  afterAll(async () => {
    h?.manager.groupReactor.stop();
    await h?.close();
  });

  const settle = async () => {
    for (let i = 0; i < 10; i++) {
      await h.manager.groupReactor.idle();
      const ran = await h.worker.drain();
      await h.manager.groupReactor.idle();
      if (ran.length === 0) return;
    }
  };

  /** A group of `members` volumes, each path its own. */
  const groupOf = async (members: number) => {
    const type = await h.manager.groups.createGroupType({ name: `gt-${Math.random()}`, description: null, isPublic: true, specs: {} });
    const g = await h.manager.groups.createGroup({ projectId: 'p', userId: 'u', name: 'g', description: null, groupTypeId: type.id, volumeTypeIds: [DEFAULT_VOLUME_TYPE_ID] });
    for (let i = 0; i < members; i++) {
      const v = await createdVolume(h, { projectId: 'p', userId: 'u', size: 1, name: `m${i}` });
      await h.manager.groups.updateGroup(g.id, { addVolumes: [v.id], removeVolumes: [] });
    }
    return g.id;
  };

  const replay = async (steps: { event: GroupSnapshotEvent }[]) => {
    let expected = initialGroupSnapshotSnapshot();
    let id = '';
    for (const [i, { event }] of steps.entries()) {
      if (i === 0) continue;
      const next = stepGroupSnapshot(expected, event);
      expect(next.accepted).toBe(true);
      const phase = groupSnapshotPhaseOf(expected);
      if (event.type === 'group_snapshot.create') {
        id = (await h.manager.groups.createGroupSnapshot({ groupId: await groupOf(event.members), projectId: 'p', userId: 'u', name: null, description: null })).id;
      } else if (event.type === 'group_snapshot.delete') {
        await h.manager.groups.deleteGroupSnapshot(id);
      } else if (event.type === 'timer.expired') {
        h.clock.advance(defaultGroupSnapshotWaitSeconds[phase === 'creating' ? 'create' : 'delete'] + 1);
        await h.manager.groupReactor.sweep();
      } else if (event.type === 'children.changed') {
        if (event.children.failed > 0) h.driver.failNext.push(phase === 'creating' ? 'createSnapshot' : 'deleteSnapshot');
        await settle();
      }
      const row = await h.db.prisma.groupSnapshot.findUniqueOrThrow({ where: { id } });
      const want = groupSnapshotPhaseOf(next.next);
      expect({ step: i, phase: row.phase, status: row.status }).toEqual({ step: i, phase: want, status: groupSnapshotStatusOfPhase(want) });
      expect(row.deadlineAt === null).toBe(want !== 'creating' && want !== 'deleting');
      const accepted = await h.db.prisma.groupTransition.count({ where: { subjectId: id, rejected: false } });
      expect(accepted).toBe(row.version);
      expected = next.next;
    }
    // Where the parent rests, its children agree (Cinder: a failed group snapshot fails them all).
    const children = await h.db.prisma.snapshot.findMany({ where: { groupSnapshotId: id, deleted: false } });
    const phase = groupSnapshotPhaseOf(expected);
    if (phase === 'available') expect(children.every((c) => c.status === 'available')).toBe(true);
    if (phase === 'deleted') expect(children).toEqual([]);
    if (phase === 'error' && steps.at(-1)!.event.type !== 'timer.expired') expect(children.map((c) => c.status)).toEqual(children.map(() => 'error'));
  };

  it.each(shortest.map((p) => [describePath(p.steps.slice(1)), p] as const))('shortest: %s', async (_name, path) => {
    await replay(path.steps as { event: GroupSnapshotEvent }[]);
  });

  it.each(simple.map((p) => [describePath(p.steps.slice(1)), p] as const))('simple: %s', async (_name, path) => {
    await replay(path.steps as { event: GroupSnapshotEvent }[]);
  });
});
