// Everything the rest of the service needs to know about snapshot states is read off the
// machine here: Cinder-facing statuses, phases, compute waits, requested effects, and the
// table of statuses a compute callback may request. Nothing else spells these out again.
import { initialTransition, type SnapshotFrom } from 'xstate';
import { leafOf, statechartOf, stateValueOf, stepMachine, type MachineStep } from './statechart.js';
import {
  snapshotMachine,
  assistedContinuationEffects,
  effectKinds,
  type ComputeWait,
  type EffectKind,
  type SnapshotContext,
  type SnapshotEvent,
} from './snapshot.js';

export type MachineSnapshot = SnapshotFrom<typeof snapshotMachine>;

interface StateMeta {
  status?: string;
  effect?: EffectKind;
  computeWait?: ComputeWait;
  description?: string;
}

const chart = statechartOf(snapshotMachine);

/** Leaf states, the only ones a snapshot can rest in, as dotted paths. */
export const leafPhases: readonly string[] = chart.leafPhases;

const ownMeta = <K extends keyof StateMeta>(phase: string, key: K) => chart.ownMeta(phase, key) as StateMeta[K] | undefined;

export const statusOfPhase = (phase: string): string => chart.statusOfPhase(phase);
export const computeWaitOfPhase = (phase: string): ComputeWait | null => ownMeta(phase, 'computeWait') ?? null;
export const effectOfPhase = (phase: string): EffectKind | null => ownMeta(phase, 'effect') ?? null;

/** Every Cinder-facing status a snapshot can have, in declaration order. */
export const snapshotStatuses: readonly string[] = [...new Set(leafPhases.map(statusOfPhase))];

/** The persisted states: the initial `new` state only exists before the first commit. */
export const persistedPhases = leafPhases.filter((p) => p !== snapshotMachine.config.initial);

/** Phases in which an assisted operation is past its begin and not yet complete. */
export const assistedInFlightPhases: readonly string[] = persistedPhases.filter((p) => {
  const effect = effectOfPhase(p);
  return effect !== null && assistedContinuationEffects.includes(effect);
});

export const phaseOf = (snapshot: MachineSnapshot): string => leafOf(snapshot);
export const statusOf = (snapshot: MachineSnapshot) => statusOfPhase(phaseOf(snapshot));
export const isTerminalStatus = (status: string) => ['available', 'error', 'error_deleting', 'deleted'].includes(status);

/** The statuses that report a failure (error, error_deleting): what needs an operator. */
export const errorStatuses: readonly string[] = snapshotStatuses.filter((s) => s.startsWith('error'));

/** Persisted phases in which an operation is under way (the snapshot does not rest there). */
export const activePhases: readonly string[] = persistedPhases.filter((p) => !isTerminalStatus(statusOfPhase(p)));

/** What the database stores; restoring it gives back the same machine snapshot. */
export interface PersistedMachineState {
  value: MachineSnapshot['value'];
  context: SnapshotContext;
}
export const persist = (s: MachineSnapshot): PersistedMachineState => ({ value: s.value, context: s.context });
export const restore = (p: PersistedMachineState): MachineSnapshot =>
  snapshotMachine.resolveState({ value: p.value, context: p.context });

export const initialSnapshot = (): MachineSnapshot => initialTransition(snapshotMachine)[0];

/** Snapshot resting in `phase` with the given context, for probing the machine. */
export function snapshotIn(phase: string, context: Partial<SnapshotContext> = {}): MachineSnapshot {
  const base = initialSnapshot().context;
  return snapshotMachine.resolveState({ value: stateValueOf(phase) as never, context: { ...base, ...context } });
}

export type Step = MachineStep<MachineSnapshot, EffectKind>;

/** One pure step of the machine. A rejected event leaves the snapshot as it was. */
export const step = (current: MachineSnapshot, event: SnapshotEvent): Step => stepMachine(snapshotMachine, current, event, effectKinds);

/**
 * Cinder's os-update_snapshot_status table (current status -> statuses a caller may request),
 * derived by asking the machine which legacy callbacks it accepts in each of its states.
 */
export const callbackTransitions: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const table = new Map<string, Set<string>>();
  for (const phase of persistedPhases) {
    const current = snapshotIn(phase, { assisted: true });
    for (const requested of snapshotStatuses) {
      for (const progress of [undefined, '50%', '90%']) {
        const event: SnapshotEvent = { type: 'compute.status', status: requested, ...(progress ? { progress } : {}) };
        if (current.can(event)) {
          const status = statusOfPhase(phase);
          if (!table.has(status)) table.set(status, new Set());
          table.get(status)!.add(requested);
        }
      }
    }
  }
  return table;
})();

/** The compute wait deadlines a phase can have, with the configured seconds. */
export type ComputeWaitSeconds = Record<ComputeWait, number>;

export function describePhase(phase: string) {
  return {
    phase,
    status: statusOfPhase(phase),
    effect: effectOfPhase(phase),
    computeWait: computeWaitOfPhase(phase),
  };
}
