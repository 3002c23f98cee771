// What the service reads off the volume machine, as derive.ts does for snapshots: the Cinder
// status of each phase, the effect a phase asks for, persisting and restoring a machine
// snapshot, and one pure step. Nothing else spells a volume status out again.
import { initialTransition, type SnapshotFrom } from 'xstate';
import { leafOf, statechartOf, stateValueOf, stepMachine } from './statechart.js';
import { volumeEffectKinds, volumeMachine, type VolumeContext, type VolumeEffectKind, type VolumeEvent } from './volume.js';

export type VolumeMachineSnapshot = SnapshotFrom<typeof volumeMachine>;

const chart = statechartOf(volumeMachine);

/** Leaf states, the only ones a volume can rest in, as dotted paths. */
export const volumeLeafPhases: readonly string[] = chart.leafPhases;
export const volumeStatusOfPhase = (phase: string): string => chart.statusOfPhase(phase);
export const volumeEffectOfPhase = (phase: string): VolumeEffectKind | null => (chart.ownMeta(phase, 'effect') as VolumeEffectKind | undefined) ?? null;

/** The persisted states: the initial `new` state only exists before the first commit. */
export const volumePersistedPhases = volumeLeafPhases.filter((p) => p !== volumeMachine.config.initial);
/** Every Cinder-facing status a volume can have, in declaration order. */
export const volumeStatuses: readonly string[] = [...new Set(volumeLeafPhases.map(volumeStatusOfPhase))];

export const volumePhaseOf = (snapshot: VolumeMachineSnapshot): string => leafOf(snapshot);

/** What the database stores; restoring it gives back the same machine snapshot. */
export interface PersistedVolumeState {
  value: VolumeMachineSnapshot['value'];
  context: VolumeContext;
}
export const persistVolume = (s: VolumeMachineSnapshot): PersistedVolumeState => ({ value: s.value, context: s.context });
export const restoreVolume = (p: PersistedVolumeState): VolumeMachineSnapshot =>
  volumeMachine.resolveState({ value: p.value, context: p.context });

export const initialVolumeSnapshot = (): VolumeMachineSnapshot => initialTransition(volumeMachine)[0];

/** A volume resting in `phase` with the given context, for probing the machine. */
export function volumeIn(phase: string, context: Partial<VolumeContext> = {}): VolumeMachineSnapshot {
  return volumeMachine.resolveState({ value: stateValueOf(phase) as never, context: { ...initialVolumeSnapshot().context, ...context } });
}

export interface VolumeStep {
  accepted: boolean;
  next: VolumeMachineSnapshot;
  effects: VolumeEffectKind[];
}

/** One pure step of the volume machine. A rejected event leaves the volume as it was. */
export const stepVolume = (current: VolumeMachineSnapshot, event: VolumeEvent): VolumeStep =>
  stepMachine(volumeMachine, current, event, volumeEffectKinds) as VolumeStep;

/**
 * The statuses in which the machine takes an event, in declaration order: what Cinder's refusals
 * name ("Volume status must be available to reserve, …"), read off the machine.
 */
export function volumeStatusesAccepting(event: VolumeEvent): string[] {
  const statuses = volumePersistedPhases.filter((p) => volumeIn(p, { attachStatus: 'attached' }).can(event)).map(volumeStatusOfPhase);
  return [...new Set(statuses)];
}
