// The group and group snapshot machines' events: read the row -> pure step -> one transaction
// holding the row at the version the step was computed from, with its history row (and, for a
// group update, the membership change) -> announce. A row that moved on meanwhile is read again
// and the event offered again. The parents' effects are events for their children's machines,
// which have their own history and outbox; the manager carries them out once the parent's step
// is committed, and the sweep (group-sweeper.ts) offers a waiting parent its children's state
// again, so a crash between the two loses nothing.
import type { GroupSnapshotEvent } from '../../machines/group-snapshot.js';
import { defaultGroupSnapshotWaitSeconds, type GroupSnapshotWait } from '../../machines/group-snapshot.js';
import type { GroupEvent } from '../../machines/group.js';
import {
  groupPhaseOf,
  groupSnapshotDeadlineOf,
  groupSnapshotPhaseOf,
  groupSnapshotStatusOfPhase,
  groupStatusOfPhase,
  initialGroupSnapshot,
  initialGroupSnapshotSnapshot,
  persistGroup,
  persistGroupSnapshot,
  restoreGroup,
  restoreGroupSnapshot,
  stepGroup,
  stepGroupSnapshot,
  type GroupMachineSnapshot,
  type GroupSnapshotMachineSnapshot,
} from '../../machines/group-derive.js';
import type { PrismaClient } from '../db/client.js';
import { eventPayload } from './event-payload.js';
import type { EngineEventBus } from './events.js';
import {
  commitParentStep,
  findGroup,
  findGroupSnapshot,
  insertGroup,
  insertGroupSnapshot,
  type GroupRow,
  type GroupSnapshotRow,
  type ParentHistoryRow,
  type ParentStateColumns,
  type ParentSubject,
} from './store/groups.js';
import type { Clock, EventSource, ParentTransitionCommitted } from './types.js';

export type { ParentTransitionCommitted } from './types.js';

export type ParentOutcome<R> =
  | { kind: 'accepted'; row: R; fromStatus: string | null; toStatus: string; effects: string[] }
  | { kind: 'rejected'; row: R; status: string; reason: string }
  | { kind: 'not_found'; id: string };


export type GroupSnapshotWaits = Record<GroupSnapshotWait, number>;

export class ParentCommitter {
  readonly waits: GroupSnapshotWaits;

  constructor(
    private readonly prisma: () => PrismaClient,
    private readonly clock: Clock,
    private readonly events: EngineEventBus,
    private readonly maxConflictRetries: number,
    waits: Partial<GroupSnapshotWaits> = {},
  ) {
    this.waits = { ...defaultGroupSnapshotWaitSeconds, ...waits };
  }

  async startGroup(
    identity: Pick<GroupRow, 'id' | 'projectId' | 'userId' | 'name' | 'description' | 'groupTypeId' | 'availabilityZone' | 'groupSnapshotId' | 'sourceGroupId'>,
    volumeTypeIds: readonly string[],
    event: Extract<GroupEvent, { type: 'group.create' | 'group.create_from_source' }>,
    source: EventSource,
  ): Promise<GroupRow> {
    const now = this.clock();
    const step = stepGroup(initialGroupSnapshot(), event);
    if (!step.accepted) throw new Error('the group machine refused its create event');
    const columns = groupColumns(step.next, now, null);
    const row = await insertGroup(this.prisma(), { ...identity, createdAt: now }, volumeTypeIds, { version: 1, columns }, history('group', identity.id, 1, null, columns, event, source, now, false, null));
    this.announce('group', identity.id, 1, null, columns, event, source, [], now);
    return row;
  }

  async startGroupSnapshot(
    identity: Pick<GroupSnapshotRow, 'id' | 'groupId' | 'projectId' | 'userId' | 'name' | 'description' | 'groupTypeId'>,
    event: Extract<GroupSnapshotEvent, { type: 'group_snapshot.create' }>,
    source: EventSource,
  ): Promise<ParentOutcome<GroupSnapshotRow> & { kind: 'accepted' }> {
    const now = this.clock();
    const step = stepGroupSnapshot(initialGroupSnapshotSnapshot(), event);
    if (!step.accepted) throw new Error('the group snapshot machine refused its create event');
    const columns = this.groupSnapshotColumns(step.next, now, null);
    const row = await insertGroupSnapshot(this.prisma(), { ...identity, createdAt: now }, { version: 1, columns }, history('group_snapshot', identity.id, 1, null, columns, event, source, now, false, null));
    this.announce('group_snapshot', identity.id, 1, null, columns, event, source, step.effects, now);
    return { kind: 'accepted', row, fromStatus: null, toStatus: columns.status, effects: step.effects };
  }

  /** Offers an event to a group's machine; `membership` and `fields` commit with it. */
  async deliverGroup(
    id: string,
    event: GroupEvent,
    source: EventSource,
    extra: { membership?: { add: string[]; remove: string[] }; fields?: { name?: string | null; description?: string | null } } = {},
  ): Promise<ParentOutcome<GroupRow>> {
    for (let attempt = 1; attempt <= this.maxConflictRetries; attempt++) {
      const row = await findGroup(this.prisma(), id);
      if (!row || row.deleted) return { kind: 'not_found', id };
      const now = this.clock();
      const step = stepGroup(restoreGroup(JSON.parse(row.machineState)), event);
      const outcome = await this.commit('group', row, step.accepted ? groupColumns(step.next, now, row) : null, [], event, source, now, extra);
      if (outcome === 'conflict') continue;
      if (!step.accepted) return { kind: 'rejected', row, status: row.status, reason: rejection(row, event.type) };
      return { kind: 'accepted', row: (await findGroup(this.prisma(), id))!, fromStatus: row.status, toStatus: outcome.status, effects: [] };
    }
    throw new Error(`group ${id}: event kept conflicting after ${this.maxConflictRetries} attempts`);
  }

  /**
   * Offers an event to a group snapshot's machine. With `expectedVersion` (a swept deadline) a
   * row that moved on is left alone: the timeout is moot.
   */
  async deliverGroupSnapshot(id: string, event: GroupSnapshotEvent, source: EventSource, expectedVersion?: number): Promise<ParentOutcome<GroupSnapshotRow> | { kind: 'moot' }> {
    for (let attempt = 1; attempt <= this.maxConflictRetries; attempt++) {
      const row = await findGroupSnapshot(this.prisma(), id);
      if (!row || row.deleted) return { kind: 'not_found', id };
      if (expectedVersion !== undefined && row.version !== expectedVersion) return { kind: 'moot' };
      const now = this.clock();
      const step = stepGroupSnapshot(restoreGroupSnapshot(JSON.parse(row.machineState)), event);
      const outcome = await this.commit('group_snapshot', row, step.accepted ? this.groupSnapshotColumns(step.next, now, row) : null, step.effects, event, source, now, {});
      if (outcome === 'conflict') continue;
      if (!step.accepted) return { kind: 'rejected', row, status: row.status, reason: rejection(row, event.type) };
      return { kind: 'accepted', row: (await findGroupSnapshot(this.prisma(), id))!, fromStatus: row.status, toStatus: outcome.status, effects: step.effects };
    }
    throw new Error(`group snapshot ${id}: event kept conflicting after ${this.maxConflictRetries} attempts`);
  }

  private async commit(
    subject: ParentSubject,
    row: { id: string; version: number; phase: string; status: string },
    columns: ParentStateColumns | null,
    effects: string[],
    event: GroupEvent | GroupSnapshotEvent,
    source: EventSource,
    now: Date,
    extra: { membership?: { add: string[]; remove: string[] }; fields?: { name?: string | null; description?: string | null } },
  ): Promise<'conflict' | ParentStateColumns> {
    const version = columns ? row.version + 1 : row.version;
    const r = await commitParentStep(this.prisma(), {
      subject,
      id: row.id,
      fromVersion: row.version,
      ...(columns ? { update: { version, updatedAt: now, columns }, ...extra } : {}),
      history: columns
        ? history(subject, row.id, version, row, columns, event, source, now, false, columns.errorReason)
        : history(subject, row.id, row.version, row, row, event, source, now, true, rejection(row, event.type)),
    });
    if (r === 'conflict') return 'conflict';
    if (columns) this.announce(subject, row.id, version, row, columns, event, source, effects, now);
    return columns ?? (row as unknown as ParentStateColumns);
  }

  private groupSnapshotColumns(s: GroupSnapshotMachineSnapshot, now: Date, prev: { phase: string; phaseEnteredAt: Date; deadlineAt: Date | null } | null): ParentStateColumns {
    const phase = groupSnapshotPhaseOf(s);
    const same = prev !== null && prev.phase === phase;
    const wait = groupSnapshotDeadlineOf(phase);
    return {
      machineState: JSON.stringify(persistGroupSnapshot(s)),
      phase,
      status: groupSnapshotStatusOfPhase(phase),
      errorReason: s.context.reason,
      phaseEnteredAt: same ? prev.phaseEnteredAt : now,
      deleted: phase === 'deleted',
      deletedAt: phase === 'deleted' ? now : null,
      // A step that stays in its phase keeps the deadline its phase was entered with.
      deadlineAt: wait === null ? null : same ? prev.deadlineAt : new Date(now.getTime() + this.waits[wait] * 1000),
    };
  }

  private announce(
    subject: ParentSubject,
    id: string,
    version: number,
    from: { phase: string } | null,
    to: { phase: string; status: string },
    event: GroupEvent | GroupSnapshotEvent,
    source: EventSource,
    effects: string[],
    at: Date,
  ) {
    this.events.emit('parentTransition', { subject, id, version, fromPhase: from?.phase ?? null, toPhase: to.phase, toStatus: to.status, eventType: event.type, source, effects, at });
  }
}

function groupColumns(s: GroupMachineSnapshot, now: Date, prev: { phase: string; phaseEnteredAt: Date } | null): ParentStateColumns {
  const phase = groupPhaseOf(s);
  return {
    machineState: JSON.stringify(persistGroup(s)),
    phase,
    status: groupStatusOfPhase(phase),
    errorReason: s.context.reason,
    phaseEnteredAt: prev !== null && prev.phase === phase ? prev.phaseEnteredAt : now,
    deleted: phase === 'deleted',
    deletedAt: phase === 'deleted' ? now : null,
  };
}

function rejection(row: { status: string; phase: string }, eventType: string): string {
  return `${eventType} not accepted in ${row.phase} (status ${row.status})`;
}

function history(
  subject: ParentSubject,
  subjectId: string,
  version: number,
  from: { phase: string; status: string } | null,
  to: { phase: string; status: string },
  event: GroupEvent | GroupSnapshotEvent,
  source: EventSource,
  at: Date,
  rejected: boolean,
  reason: string | null,
): ParentHistoryRow {
  return {
    subject,
    subjectId,
    version,
    fromPhase: from?.phase ?? null,
    toPhase: to.phase,
    fromStatus: from?.status ?? null,
    toStatus: to.status,
    eventType: event.type,
    source,
    payload: eventPayload(event),
    rejected,
    reason,
    createdAt: at,
  };
}
