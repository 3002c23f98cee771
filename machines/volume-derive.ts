// What the service reads off the volume machine, as derive.ts does for snapshots: the Cinder
// status of each phase, the effect a phase asks for, persisting and restoring a machine
// snapshot, and one pure step. Nothing else spells a volume status out again.
import { initialTransition, type SnapshotFrom } from 'xstate';
import { leafOf, statechartOf, stateValueOf, stepMachine, type MachineStep } from './statechart.js';
import { volumeEffectKinds, volumeMachine, type VolumeContext, type VolumeEffectKind, type VolumeEvent } from './volume.js';

export type VolumeMachineSnapshot = SnapshotFrom<typeof volumeMachine>;

const chart = statechartOf(volumeMachine);

/** Leaf states, the only ones a volume can rest in, as dotted paths. */
export const volumeLeafPhases: readonly string[] = chart.leafPhases;
export const volumeStatusOfPhase = (phase: string): string => chart.statusOfPhase(phase);
export const volumeEffectOfPhase = (phase: string): VolumeEffectKind | null => (chart.ownMeta(phase, 'effect') as VolumeEffectKind | undefined) ?? null;
/** Whether the volume refuses its owner's changes in `phase` (name, description, metadata): Cinder's maintenance. */
export const volumeLockedInPhase = (phase: string): boolean => chart.ownMeta(phase, 'locked') === true;

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

export type VolumeStep = MachineStep<VolumeMachineSnapshot, VolumeEffectKind>;

/** One pure step of the volume machine. A rejected event leaves the volume as it was. */
export const stepVolume = (current: VolumeMachineSnapshot, event: VolumeEvent): VolumeStep => stepMachine(volumeMachine, current, event, volumeEffectKinds);

const accepting = new Map<string, readonly string[]>();

/**
 * The statuses in which the machine takes an event, in declaration order: what Cinder's refusals
 * name ("Volume status must be available to reserve, …"), read off the machine. Asked on every
 * attach, so each event is probed against every phase once; the key is the whole event, since
 * guards read its fields (a reset's status, a driver result's phase), and callers only pass
 * events spelled in the code, so the map stays small.
 */
export function volumeStatusesAccepting(event: VolumeEvent): readonly string[] {
  const key = JSON.stringify(event);
  let statuses = accepting.get(key);
  if (!statuses) {
    statuses = [...new Set(volumePersistedPhases.filter((p) => volumeIn(p, { attachStatus: 'attached' }).can(event)).map(volumeStatusOfPhase))];
    accepting.set(key, statuses);
  }
  return statuses;
}
