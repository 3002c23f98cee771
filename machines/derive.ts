// Everything the rest of the service needs to know about snapshot states is read off the
// machine here: Cinder-facing statuses, phases, compute waits, requested effects, and the
// table of statuses a compute callback may request. Nothing else spells these out again.
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
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

interface NodeLike {
  id: string;
  path: string[];
  type: string;
  meta?: StateMeta;
  states: Record<string, NodeLike>;
  parent?: NodeLike;
}

function allNodes(): NodeLike[] {
  const out: NodeLike[] = [];
  const walk = (n: NodeLike) => {
    out.push(n);
    for (const child of Object.values(n.states)) walk(child);
  };
  walk(snapshotMachine.root as unknown as NodeLike);
  return out;
}

/** Leaf states, the only ones a snapshot can rest in, as dotted paths. */
export const leafPhases: readonly string[] = allNodes()
  .filter((n) => n.type === 'atomic' || n.type === 'final')
  .map((n) => n.path.join('.'));

function nodeAt(phase: string): NodeLike {
  const node = allNodes().find((n) => n.path.join('.') === phase);
  if (!node) throw new Error(`unknown snapshot phase ${phase}`);
  return node;
}

/** The nearest declaration of a meta field, from the leaf up: children inherit their parent's status. */
function inheritedMeta<K extends keyof StateMeta>(phase: string, key: K): StateMeta[K] | undefined {
  for (let n: NodeLike | undefined = nodeAt(phase); n; n = n.parent) {
    if (n.meta && n.meta[key] !== undefined) return n.meta[key];
  }
  return undefined;
}

export const statusOfPhase = (phase: string): string => {
  const status = inheritedMeta(phase, 'status');
  if (!status) throw new Error(`phase ${phase} declares no status`);
  return status;
};
export const computeWaitOfPhase = (phase: string): ComputeWait | null => nodeAt(phase).meta?.computeWait ?? null;
export const effectOfPhase = (phase: string): EffectKind | null => nodeAt(phase).meta?.effect ?? null;

/** Every Cinder-facing status a snapshot can have, in declaration order. */
export const snapshotStatuses: readonly string[] = [...new Set(leafPhases.map(statusOfPhase))];

/** The persisted states: the initial `new` state only exists before the first commit. */
export const persistedPhases = leafPhases.filter((p) => p !== snapshotMachine.config.initial);

/** Phases in which an assisted operation is past its begin and not yet complete. */
export const assistedInFlightPhases: readonly string[] = persistedPhases.filter((p) => {
  const effect = effectOfPhase(p);
  return effect !== null && assistedContinuationEffects.includes(effect);
});

export function phaseOf(snapshot: MachineSnapshot): string {
  const leaves = snapshot._nodes.filter((n) => n.type === 'atomic' || n.type === 'final');
  if (leaves.length !== 1) throw new Error('snapshot machine must rest in exactly one leaf state');
  return leaves[0].path.join('.');
}
export const statusOf = (snapshot: MachineSnapshot) => statusOfPhase(phaseOf(snapshot));
export const isTerminalStatus = (status: string) => ['available', 'error', 'error_deleting', 'deleted'].includes(status);

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
  const value = phase.split('.').reduceRight<any>((inner, key) => (inner === null ? key : { [key]: inner }), null);
  return snapshotMachine.resolveState({ value, context: { ...base, ...context } });
}

export interface Step {
  accepted: boolean;
  next: MachineSnapshot;
  effects: EffectKind[];
}

/** One pure step of the machine. A rejected event leaves the snapshot as it was. */
export function step(current: MachineSnapshot, event: SnapshotEvent): Step {
  if (current.status !== 'active' || !current.can(event)) return { accepted: false, next: current, effects: [] };
  const [next, actions] = transition(snapshotMachine, current, event);
  const effects = actions
    .filter((a) => a.type === 'effect')
    .map((a) => (a.params as { kind: EffectKind }).kind);
  for (const kind of effects) {
    if (!effectKinds.includes(kind)) throw new Error(`machine asked for unknown effect ${kind}`);
  }
  return { accepted: true, next, effects };
}

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
