// What every machine of the service reads off its statechart the same way: its leaf states as
// dotted phases, the meta a phase declares or inherits from its parents (the Cinder status, the
// effect it asks for), the one leaf a snapshot of it rests in, and one pure step that lists the
// effects the step asked for. The snapshot machine (derive.ts) and the volume machine
// (volume-derive.ts) both build on it, so neither spells a state's status out again.
import { transition, type AnyStateMachine, type AnyMachineSnapshot, type EventFromLogic, type SnapshotFrom } from 'xstate';

interface NodeLike {
  path: string[];
  type: string;
  meta?: Record<string, unknown>;
  states: Record<string, NodeLike>;
  parent?: NodeLike;
}

export interface Statechart {
  /** Leaf states, the only ones a snapshot can rest in, as dotted paths. */
  leafPhases: readonly string[];
  /** The meta a phase declares itself. */
  ownMeta(phase: string, key: string): unknown;
  /** The Cinder status a phase shows (declared on it or a parent). */
  statusOfPhase(phase: string): string;
}

export function statechartOf(machine: AnyStateMachine): Statechart {
  const nodes: NodeLike[] = [];
  const walk = (n: NodeLike) => {
    nodes.push(n);
    for (const child of Object.values(n.states)) walk(child);
  };
  walk(machine.root as unknown as NodeLike);
  const byPhase = new Map(nodes.map((n) => [n.path.join('.'), n]));
  const nodeAt = (phase: string): NodeLike => {
    const node = byPhase.get(phase);
    if (!node) throw new Error(`unknown ${machine.id} phase ${phase}`);
    return node;
  };
  /** The nearest declaration of a meta field, from the leaf up (children inherit their parent's). */
  const inheritedMeta = (phase: string, key: string): unknown => {
    for (let n: NodeLike | undefined = nodeAt(phase); n; n = n.parent) {
      if (n.meta && n.meta[key] !== undefined) return n.meta[key];
    }
    return undefined;
  };
  return {
    leafPhases: nodes.filter((n) => n.type === 'atomic' || n.type === 'final').map((n) => n.path.join('.')),
    ownMeta: (phase, key) => nodeAt(phase).meta?.[key],
    statusOfPhase: (phase) => {
      const status = inheritedMeta(phase, 'status');
      if (typeof status !== 'string') throw new Error(`${machine.id} phase ${phase} declares no status`);
      return status;
    },
  };
}

/** The one leaf state a snapshot of a machine rests in, as a dotted path. */
export function leafOf(snapshot: AnyMachineSnapshot): string {
  const leaves = snapshot._nodes.filter((n) => n.type === 'atomic' || n.type === 'final');
  if (leaves.length !== 1) throw new Error(`${snapshot.machine.id} machine must rest in exactly one leaf state`);
  return leaves[0].path.join('.');
}

export interface MachineStep<S, K extends string> {
  accepted: boolean;
  next: S;
  effects: K[];
}

/** One pure step of a machine. A rejected event leaves the snapshot as it was. */
export function stepMachine<M extends AnyStateMachine, K extends string>(
  machine: M,
  current: SnapshotFrom<M>,
  event: EventFromLogic<M>,
  effectKinds: readonly K[],
): MachineStep<SnapshotFrom<M>, K> {
  const snapshot = current as AnyMachineSnapshot;
  if (snapshot.status !== 'active' || !snapshot.can(event)) return { accepted: false, next: current, effects: [] };
  const [next, actions] = transition(machine, current as never, event);
  const effects = (actions as ReadonlyArray<{ type: string; params?: unknown }>)
    .filter((a) => a.type === 'effect')
    .map((a) => (a.params as { kind: K }).kind);
  for (const kind of effects) {
    if (!effectKinds.includes(kind)) throw new Error(`${machine.id} machine asked for unknown effect ${kind}`);
  }
  return { accepted: true, next: next as SnapshotFrom<M>, effects };
}

/** A value for `resolveState` from a dotted phase: 'a.b' is { a: 'b' }. */
export function stateValueOf(phase: string): string | Record<string, unknown> {
  return phase.split('.').reduceRight<any>((inner, key) => (inner === null ? key : { [key]: inner }), null);
}
