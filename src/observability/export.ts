// `npm run export-machines`: each machine (snapshot, volume, group snapshot, group) as a Mermaid stateDiagram-v2 and as
// the JSON config Stately Studio imports, written to docs/machines/, and each Mermaid block
// embedded in README.md replaced by the fresh one. Both outputs are functions of the machine object, so a
// test can regenerate them and compare with what is committed.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { allStates, describeImplementation, machineGraph, type GraphState, type GraphTransition } from '../../machines/graph.js';
import { snapshotMachine } from '../../machines/snapshot.js';
import { volumeMachine } from '../../machines/volume.js';
import { groupSnapshotMachine } from '../../machines/group-snapshot.js';
import { groupMachine } from '../../machines/group.js';
import { projectRoot } from '../lib/project-root.js';

/** Mermaid ids allow no dots; `__` cannot clash with a key that has single underscores. */
const mermaidId = (statePath: string) => statePath.split('.').join('__');

// Transition labels are free text up to the end of the line, except for a few characters
// Mermaid's grammar reads as syntax.
const mermaidText = (text: string) => text.replace(/[;#:]/g, ' ').replace(/\s+/g, ' ').trim();

function transitionLabel(t: GraphTransition): string {
  return mermaidText(t.guard ? `${t.event} [${t.guard}]` : t.event);
}

function stateNotes(s: GraphState): string[] {
  // Mermaid refuses descriptions on composite states; their children carry the detail.
  if (s.children.length > 0) return [];
  const notes: string[] = [];
  const status = s.meta?.status;
  if (typeof status === 'string') notes.push(`status ${status}`);
  for (const action of s.entry) notes.push(mermaidText(`entry ${action}`));
  return notes;
}

/** The machine as a Mermaid stateDiagram-v2, nested states as composite states. */
export function toMermaid(machine: AnyStateMachine): string {
  const graph = machineGraph(machine);
  const lines: string[] = [
    'stateDiagram-v2',
    `  %% Generated from the "${graph.id}" machine by npm run export-machines. Do not edit.`,
  ];
  const owner = new Map<string, GraphState>();
  for (const s of allStates(graph)) for (const c of s.children) owner.set(c.path, s);

  // A transition is written inside the innermost composite that holds both its ends, so
  // Mermaid lays it out there.
  const commonParent = (a: string, b: string): string => {
    const pa = a.split('.');
    const pb = b.split('.');
    const common: string[] = [];
    for (let i = 0; i < Math.min(pa.length, pb.length) - 1 && pa[i] === pb[i]; i++) common.push(pa[i]!);
    return common.join('.');
  };
  // Transitions between the same two states share one arrow, one label line each: the picture
  // stays readable and nothing is left out.
  const edgesIn = new Map<string, Map<string, string[]>>();
  const addEdge = (scope: string, arrow: string, label?: string) => {
    if (!edgesIn.has(scope)) edgesIn.set(scope, new Map());
    const arrows = edgesIn.get(scope)!;
    if (!arrows.has(arrow)) arrows.set(arrow, []);
    if (label) arrows.get(arrow)!.push(label);
  };
  for (const s of allStates(graph)) {
    if (s.path === '') continue;
    for (const t of s.transitions) {
      const targets = t.targets.length > 0 ? t.targets : [s.path];
      for (const target of targets) {
        addEdge(commonParent(s.path, target), `${mermaidId(s.path)} --> ${mermaidId(target)}`, transitionLabel(t));
      }
    }
    if (s.type === 'final') addEdge(owner.get(s.path)?.path ?? '', `${mermaidId(s.path)} --> [*]`);
  }

  const emit = (s: GraphState, indent: string) => {
    if (s.initial) lines.push(`${indent}[*] --> ${mermaidId(s.initial)}`);
    for (const child of s.children) {
      const id = mermaidId(child.path);
      const notes = stateNotes(child);
      // Without an explicit label Mermaid would title the box with its first description line.
      if (id !== child.key || notes.length > 0) lines.push(`${indent}state "${child.key}" as ${id}`);
      if (child.children.length > 0) {
        lines.push(`${indent}state ${id} {`);
        emit(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
      for (const note of notes) lines.push(`${indent}${id} : ${note}`);
    }
    for (const [arrow, labels] of edgesIn.get(s.path) ?? []) {
      lines.push(`${indent}${arrow}${labels.length > 0 ? ` : ${labels.join('<br/>')}` : ''}`);
    }
  };
  emit(graph.root, '  ');
  return `${lines.join('\n')}\n`;
}

/** Functions cannot be JSON; Studio gets the name XState would show for them. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'function') return { type: describeImplementation(value) };
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

/** The machine's config (what `createMachine` was given) as JSON, for Stately Studio's import. */
export function toStudioJson(machine: AnyStateMachine): string {
  return `${JSON.stringify(jsonSafe(machine.config), null, 2)}\n`;
}

/** The machines exported, by the name their files and README block carry. */
export const exportedMachines = { snapshot: snapshotMachine, volume: volumeMachine, groupSnapshot: groupSnapshotMachine, group: groupMachine } as const satisfies Record<string, AnyStateMachine>;
export type ExportedMachine = keyof typeof exportedMachines;

/** Where a machine's generated block starts and ends in the README. */
export const readmeMarkers = (name: ExportedMachine) => ({
  begin: `<!-- BEGIN GENERATED: docs/machines/${name}.mmd (npm run export-machines) -->`,
  end: `<!-- END GENERATED: docs/machines/${name}.mmd -->`,
});

/** The README's generated block for a Mermaid diagram. */
export const readmeBlock = (mermaid: string, name: ExportedMachine = 'snapshot') =>
  `${readmeMarkers(name).begin}\n\`\`\`mermaid\n${mermaid}\`\`\`\n${readmeMarkers(name).end}`;

/** The Mermaid text currently embedded in a README, or null when it has no generated block. */
export function embeddedMermaid(readme: string, name: ExportedMachine = 'snapshot'): string | null {
  const { begin, end: endMarker } = readmeMarkers(name);
  const start = readme.indexOf(begin);
  const end = readme.indexOf(endMarker);
  if (start < 0 || end < start) return null;
  const block = readme.slice(start + begin.length, end);
  const m = /^\n```mermaid\n([\s\S]*)```\n$/.exec(block);
  return m ? m[1]! : null;
}

export function replaceReadmeBlock(readme: string, mermaid: string, name: ExportedMachine = 'snapshot'): string {
  const { begin, end: endMarker } = readmeMarkers(name);
  const start = readme.indexOf(begin);
  const end = readme.indexOf(endMarker);
  if (start < 0 || end < start) throw new Error(`README.md has no ${begin} … ${endMarker} block to regenerate`);
  return readme.slice(0, start) + readmeBlock(mermaid, name) + readme.slice(end + endMarker.length);
}

export interface MachineExports {
  mermaid: string;
  json: string;
}

export const exportMachine = (machine: AnyStateMachine = snapshotMachine): MachineExports => ({
  mermaid: toMermaid(machine),
  json: toStudioJson(machine),
});

export const exportPaths = (root = projectRoot(), name: ExportedMachine = 'snapshot') => ({
  mermaid: path.join(root, `docs/machines/${name}.mmd`),
  json: path.join(root, `docs/machines/${name}.json`),
  readme: path.join(root, 'README.md'),
});

/** Writes docs/machines/<name>.{mmd,json} of every machine and refreshes README.md's diagrams; returns the paths. */
export function writeMachineExports(root = projectRoot()): string[] {
  const written: string[] = [];
  const readmePath = path.join(root, 'README.md');
  let readme = readFileSync(readmePath, 'utf8');
  for (const [name, machine] of Object.entries(exportedMachines) as Array<[ExportedMachine, AnyStateMachine]>) {
    const out = exportMachine(machine);
    const paths = exportPaths(root, name);
    mkdirSync(path.dirname(paths.mermaid), { recursive: true });
    writeFileSync(paths.mermaid, out.mermaid);
    writeFileSync(paths.json, out.json);
    readme = replaceReadmeBlock(readme, out.mermaid, name);
    written.push(paths.mermaid, paths.json);
  }
  writeFileSync(readmePath, readme);
  return [...written, readmePath];
}
