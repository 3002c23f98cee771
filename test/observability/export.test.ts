// The exported diagrams are functions of the machine object: a changed machine gives a changed
// export, and the committed files (docs/machines/*, the README's block) are a fresh export.
import { readFileSync } from 'node:fs';
import { setup, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { snapshotMachine } from '../../machines/snapshot.js';
import { embeddedMermaid, exportedMachines, exportMachine, exportPaths, toMermaid, toStudioJson, type ExportedMachine } from '../../src/observability/export.js';
import { volumeMachine } from '../../machines/volume.js';
import { allStates, machineGraph } from '../../machines/graph.js';

/**
 * The snapshot machine with one more state, `archived`, reachable from `available`. Built as a
 * new machine from a copy of the config (provide() would only swap implementations).
 */
function withArchivedState(): AnyStateMachine {
  const config = structuredClone(snapshotMachine.config) as unknown as { states: Record<string, { on?: Record<string, unknown> }> };
  config.states.available!.on = { ...config.states.available!.on, 'snapshot.archive': { target: 'archived' } };
  config.states.archived = { type: 'final', meta: { status: 'archived' } } as never;
  return setup({
    actions: snapshotMachine.implementations.actions,
    guards: snapshotMachine.implementations.guards,
  } as never).createMachine(config as never) as unknown as AnyStateMachine;
}

describe('machine export', () => {
  it('writes a small machine as exactly this Mermaid and JSON', () => {
    const door = setup({ guards: { unlocked: () => true } }).createMachine({
      id: 'door',
      initial: 'closed',
      states: {
        closed: { meta: { status: 'shut' }, on: { open: { guard: 'unlocked', target: 'open' } } },
        open: {
          initial: 'swinging',
          on: { slam: 'gone' },
          states: { swinging: { on: { stop: 'still' } }, still: {} },
        },
        gone: { type: 'final' },
      },
    });
    expect(toMermaid(door)).toBe(
      [
        'stateDiagram-v2',
        '  %% Generated from the "door" machine by npm run export-machines. Do not edit.',
        '  [*] --> closed',
        '  state "closed" as closed',
        '  closed : status shut',
        '  state open {',
        '    [*] --> open__swinging',
        '    state "swinging" as open__swinging',
        '    state "still" as open__still',
        '    open__swinging --> open__still : stop',
        '  }',
        '  closed --> open : open [unlocked]',
        '  open --> gone : slam',
        '  gone --> [*]',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(toStudioJson(door))).toEqual(JSON.parse(JSON.stringify(door.config)));
  });

  it('changes when the machine changes', () => {
    const original = exportMachine(snapshotMachine);
    const changed = exportMachine(withArchivedState());
    expect(changed.mermaid).not.toBe(original.mermaid);
    expect(changed.mermaid).toContain('available --> archived : snapshot.archive');
    expect(changed.mermaid).toContain('archived --> [*]');
    expect(original.mermaid).not.toContain('archived');
    expect(JSON.parse(changed.json).states.archived).toEqual({ type: 'final', meta: { status: 'archived' } });
    expect(JSON.parse(original.json).states.archived).toBeUndefined();
  });

  it('draws every state and every transition the machine has', () => {
    const { mermaid } = exportMachine(snapshotMachine);
    const states = allStates(machineGraph(snapshotMachine)).filter((s) => s.path !== '');
    for (const s of states) expect(mermaid).toMatch(new RegExp(`\\b${s.path.split('.').join('__')}\\b`));
    const labels = states.flatMap((s) => s.transitions.map((t) => (t.guard ? `${t.event} [${t.guard}]` : t.event)));
    const drawn = mermaid.split('\n').flatMap((line) => (line.includes(' --> ') && line.includes(' : ') ? line.split(' : ')[1]!.split('<br/>') : []));
    expect(drawn.sort()).toEqual(labels.sort());
  });

  it.each(Object.keys(exportedMachines) as ExportedMachine[])('the committed %s files and README block are a fresh export (run npm run export-machines)', (name) => {
    const fresh = exportMachine(exportedMachines[name]);
    const paths = exportPaths(undefined, name);
    expect(readFileSync(paths.mermaid, 'utf8')).toBe(fresh.mermaid);
    expect(readFileSync(paths.json, 'utf8')).toBe(fresh.json);
    expect(embeddedMermaid(readFileSync(paths.readme, 'utf8'), name)).toBe(fresh.mermaid);
  });

  it('draws every state and every transition of the volume machine too', () => {
    const { mermaid } = exportMachine(volumeMachine);
    const states = allStates(machineGraph(volumeMachine)).filter((s) => s.path !== '');
    for (const s of states) expect(mermaid).toContain(`state "${s.key}" as`);
    const labels = states.flatMap((s) => s.transitions.map((t) => (t.guard ? `${t.event} [${t.guard}]` : t.event)));
    const drawn = mermaid.split('\n').flatMap((line) => (line.includes(' --> ') && line.includes(' : ') ? line.split(' : ')[1]!.split('<br/>') : []));
    expect(drawn.sort()).toEqual(labels.sort());
  });
});
