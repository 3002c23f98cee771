// What the service reads off the group and group snapshot machines, as volume-derive.ts does for
// volumes: statuses per phase, the deadline a phase declares, persisting and restoring a
// snapshot of either machine, and one pure step each.
import { initialTransition, type SnapshotFrom } from 'xstate';
import { groupSnapshotEffectKinds, groupSnapshotMachine, type GroupSnapshotContext, type GroupSnapshotEffectKind, type GroupSnapshotEvent, type GroupSnapshotWait } from './group-snapshot.js';
import { groupMachine, type GroupContext, type GroupEvent } from './group.js';
import { leafOf, statechartOf, stateValueOf, stepMachine, type MachineStep } from './statechart.js';

export type GroupMachineSnapshot = SnapshotFrom<typeof groupMachine>;
export type GroupSnapshotMachineSnapshot = SnapshotFrom<typeof groupSnapshotMachine>;

const groupChart = statechartOf(groupMachine);
const groupSnapshotChart = statechartOf(groupSnapshotMachine);

export const groupLeafPhases: readonly string[] = groupChart.leafPhases;
export const groupStatusOfPhase = (phase: string): string => groupChart.statusOfPhase(phase);
export const groupStatuses: readonly string[] = [...new Set(groupLeafPhases.map(groupStatusOfPhase))];
export const groupPhaseOf = (s: GroupMachineSnapshot): string => leafOf(s);

export const groupSnapshotLeafPhases: readonly string[] = groupSnapshotChart.leafPhases;
export const groupSnapshotStatusOfPhase = (phase: string): string => groupSnapshotChart.statusOfPhase(phase);
export const groupSnapshotStatuses: readonly string[] = [...new Set(groupSnapshotLeafPhases.map(groupSnapshotStatusOfPhase))];
export const groupSnapshotPhaseOf = (s: GroupSnapshotMachineSnapshot): string => leafOf(s);
/** Which wait a phase is bounded by (null: it waits for nothing). */
export const groupSnapshotDeadlineOf = (phase: string): GroupSnapshotWait | null =>
  (groupSnapshotChart.ownMeta(phase, 'deadline') as GroupSnapshotWait | undefined) ?? null;

export interface PersistedMachineState<V, C> {
  value: V;
  context: C;
}

export const persistGroup = (s: GroupMachineSnapshot): PersistedMachineState<GroupMachineSnapshot['value'], GroupContext> => ({ value: s.value, context: s.context });
export const restoreGroup = (p: PersistedMachineState<unknown, GroupContext>): GroupMachineSnapshot =>
  groupMachine.resolveState({ value: p.value as never, context: p.context });
export const initialGroupSnapshot = (): GroupMachineSnapshot => initialTransition(groupMachine)[0];
export const groupIn = (phase: string): GroupMachineSnapshot =>
  groupMachine.resolveState({ value: stateValueOf(phase) as never, context: initialGroupSnapshot().context });
export const stepGroup = (current: GroupMachineSnapshot, event: GroupEvent): MachineStep<GroupMachineSnapshot, never> =>
  stepMachine(groupMachine, current, event, [] as const);

export const persistGroupSnapshot = (
  s: GroupSnapshotMachineSnapshot,
): PersistedMachineState<GroupSnapshotMachineSnapshot['value'], GroupSnapshotContext> => ({ value: s.value, context: s.context });
export const restoreGroupSnapshot = (p: PersistedMachineState<unknown, GroupSnapshotContext>): GroupSnapshotMachineSnapshot =>
  groupSnapshotMachine.resolveState({ value: p.value as never, context: p.context });
export const initialGroupSnapshotSnapshot = (): GroupSnapshotMachineSnapshot => initialTransition(groupSnapshotMachine)[0];
export const groupSnapshotIn = (phase: string): GroupSnapshotMachineSnapshot =>
  groupSnapshotMachine.resolveState({ value: stateValueOf(phase) as never, context: initialGroupSnapshotSnapshot().context });
export const stepGroupSnapshot = (
  current: GroupSnapshotMachineSnapshot,
  event: GroupSnapshotEvent,
): MachineStep<GroupSnapshotMachineSnapshot, GroupSnapshotEffectKind> => stepMachine(groupSnapshotMachine, current, event, groupSnapshotEffectKinds);

/** The statuses in which a machine takes an event: what refusals name. */
export function groupStatusesAccepting(event: GroupEvent): readonly string[] {
  return [...new Set(groupLeafPhases.filter((p) => p !== 'new' && p !== 'deleted' && groupIn(p).can(event)).map(groupStatusOfPhase))];
}
export function groupSnapshotStatusesAccepting(event: GroupSnapshotEvent): readonly string[] {
  return [...new Set(groupSnapshotLeafPhases.filter((p) => p !== 'new' && p !== 'deleted' && groupSnapshotIn(p).can(event)).map(groupSnapshotStatusOfPhase))];
}
