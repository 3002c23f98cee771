// A plain, serialisable description of a state machine, read off the machine object itself
// (`machine.root`: its state nodes and their resolved transitions). The web UI's chart, the
// Mermaid diagram and the Studio JSON are all drawn from this, never from a copy of the
// statechart: change machines/snapshot.ts and every picture changes with it.
import type { AnyStateMachine } from 'xstate';

export interface GraphTransition {
  event: string;
  /** Dotted path of the state that declares the transition ('' for the machine root). */
  source: string;
  /** Dotted paths of the targets; empty when the transition stays in `source`. */
  targets: string[];
  guard: string | null;
  actions: string[];
}

export interface GraphState {
  /** Dotted path from the root ('' for the root itself), as persisted in `snapshots.phase`. */
  path: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Dotted path of the initial child of a compound state. */
  initial: string | null;
  meta: Record<string, unknown> | null;
  description: string | null;
  entry: string[];
  children: GraphState[];
  transitions: GraphTransition[];
}

export interface MachineGraph {
  id: string;
  root: GraphState;
}

// The subset of XState's StateNode this module reads. StateNode's own type is generic over the
// machine; the walk works on any machine, so it reads these fields structurally.
interface NodeLike {
  key: string;
  path: string[];
  type: GraphState['type'];
  meta?: Record<string, unknown>;
  description?: string;
  entry: unknown[];
  states: Record<string, NodeLike>;
  transitions: Map<string, Array<{ eventType: string; target?: NodeLike[]; guard?: unknown; actions: unknown[] }>>;
  always?: Array<{ target?: NodeLike[]; guard?: unknown; actions: unknown[] }>;
  initial?: { target: NodeLike[] };
}

const dotted = (n: NodeLike) => n.path.join('.');

function paramsText(params: unknown): string {
  if (params === undefined || params === null) return '';
  if (typeof params !== 'object') return String(params);
  return Object.values(params as Record<string, unknown>)
    .map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v)))
    .join(', ');
}

/** `guard` / `action` as written in the machine: a name, `{ type, params }`, or a function. */
export function describeImplementation(impl: unknown): string {
  if (typeof impl === 'string') return impl;
  if (typeof impl === 'function') {
    // Higher-order guards (and/or/not) are functions carrying their operands.
    const f = impl as { name?: string; guards?: unknown[]; guard?: unknown };
    if (Array.isArray(f.guards)) return `${f.name || 'guard'}(${f.guards.map((g) => describeImplementation(g)).join(', ')})`;
    return f.name && f.name !== 'anonymous' ? f.name : 'inline';
  }
  if (impl && typeof impl === 'object' && 'type' in impl) {
    const { type, params } = impl as { type: unknown; params?: unknown };
    const args = paramsText(params);
    return args ? `${String(type)}(${args})` : String(type);
  }
  return 'inline';
}

function describeState(node: NodeLike): GraphState {
  const path = dotted(node);
  const transitions: GraphTransition[] = [];
  for (const [event, defs] of node.transitions) {
    for (const t of defs) {
      transitions.push({
        event,
        source: path,
        targets: (t.target ?? []).map(dotted),
        guard: t.guard === undefined ? null : describeImplementation(t.guard),
        actions: t.actions.map((a) => describeImplementation(a)),
      });
    }
  }
  for (const t of node.always ?? []) {
    transitions.push({
      event: '(always)',
      source: path,
      targets: (t.target ?? []).map(dotted),
      guard: t.guard === undefined ? null : describeImplementation(t.guard),
      actions: t.actions.map((a) => describeImplementation(a)),
    });
  }
  const children = Object.values(node.states).map(describeState);
  return {
    path,
    key: node.key,
    type: node.type,
    initial: node.type === 'compound' && node.initial ? dotted(node.initial.target[0]!) : null,
    meta: node.meta && Object.keys(node.meta).length > 0 ? { ...node.meta } : null,
    description: node.description ?? null,
    entry: node.entry.map((a) => describeImplementation(a)),
    children,
    transitions,
  };
}

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  return { id: machine.id, root: describeState(machine.root as unknown as NodeLike) };
}

/** Every state of the graph, parents before children, in declaration order. */
export function allStates(graph: MachineGraph): GraphState[] {
  const out: GraphState[] = [];
  const walk = (s: GraphState) => {
    out.push(s);
    s.children.forEach(walk);
  };
  walk(graph.root);
  return out;
}
