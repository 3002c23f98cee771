// What the service reads off the volume machine (machines/volume-derive.ts), and the helpers it
// shares with the snapshot side (machines/statechart.ts).
import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { leafOf, statechartOf, stepMachine } from '../../machines/statechart.js';
import {
  initialVolumeSnapshot,
  persistVolume,
  restoreVolume,
  stepVolume,
  volumeEffectOfPhase,
  volumeIn,
  volumeLockedInPhase,
  volumePersistedPhases,
  volumePhaseOf,
  volumeStatusesAccepting,
  volumeStatuses,
  volumeStatusOfPhase,
} from '../../machines/volume-derive.js';
import type { VolumeEvent } from '../../machines/volume.js';

describe('what the service reads off the volume machine', () => {
  it("names every state by Cinder's status, and asks the driver for work only in creating, extending and deleting", () => {
    expect(volumeStatuses).toEqual([
      'creating', 'available', 'extending', 'awaiting-transfer', 'reserved', 'attaching', 'in-use', 'detaching', 'deleting', 'error', 'error_deleting', 'maintenance', 'error_extending', 'deleted',
    ]);
    expect(volumePersistedPhases.map((p) => [p, volumeStatusOfPhase(p), volumeEffectOfPhase(p)])).toEqual([
      ['creating', 'creating', 'createVolume'],
      ['available', 'available', null],
      ['extending', 'extending', 'extendVolume'],
      ['awaiting-transfer', 'awaiting-transfer', null],
      ['reserved', 'reserved', null],
      ['attaching', 'attaching', null],
      ['in-use', 'in-use', null],
      ['detaching', 'detaching', null],
      ['deleting', 'deleting', 'deleteVolume'],
      ['error', 'error', null],
      ['error_deleting', 'error_deleting', null],
      ['maintenance', 'maintenance', null],
      ['reset_creating', 'creating', null],
      ['error_extending', 'error_extending', null],
      ['deleted', 'deleted', null],
    ]);
    // Only maintenance refuses the owner's changes.
    expect(volumePersistedPhases.filter(volumeLockedInPhase)).toEqual(['maintenance']);
  });

  it("accepts Cinder's attach actions from the statuses Cinder takes them in", () => {
    const accepting = (event: VolumeEvent) => volumeStatusesAccepting(event);
    expect(accepting({ type: 'os-reserve' })).toEqual(['available']);
    expect(accepting({ type: 'os-unreserve' })).toEqual(['reserved', 'attaching']);
    expect(accepting({ type: 'os-attach' })).toEqual(['available', 'reserved', 'attaching']);
    expect(accepting({ type: 'os-begin_detaching' })).toEqual(['in-use']);
    expect(accepting({ type: 'os-roll_detaching' })).toEqual(['detaching']);
    expect(accepting({ type: 'os-detach', remaining: 0 })).toEqual(['in-use', 'detaching']);
    expect(accepting({ type: 'volume.delete' })).toEqual(['available', 'error', 'error_extending']);
    // Extend only from available, and only detached (the probe's volume is attached).
    expect(accepting({ type: 'volume.extend', newSize: 2 })).toEqual([]);
    expect(volumeIn('available').can({ type: 'volume.extend', newSize: 2 })).toBe(true);
    expect(accepting({ type: 'transfer.create' })).toEqual(['available']);
    expect(accepting({ type: 'transfer.accept' })).toEqual(['awaiting-transfer']);
    expect(accepting({ type: 'os-force_delete' })).toEqual(volumeStatuses.filter((s) => s !== 'deleted'));
    expect(accepting({ type: 'os-reset_status', status: 'no-such-status' })).toEqual([]);
  });

  it('reaches maintenance, and a creating that asks for no work, only by an admin reset', () => {
    const reached = (status: string) => volumePersistedPhases.filter((p) => p !== 'deleted').map((p) => volumePhaseOf(stepVolume(volumeIn(p), { type: 'os-reset_status', status }).next));
    expect(new Set(reached('maintenance'))).toEqual(new Set(['maintenance']));
    expect(new Set(reached('creating'))).toEqual(new Set(['reset_creating']));
    expect(stepVolume(volumeIn('available'), { type: 'os-reset_status', status: 'creating' }).effects).toEqual([]);
    // No other event leads into either state.
    for (const p of volumePersistedPhases.filter((p) => p !== 'maintenance' && p !== 'reset_creating')) {
      for (const e of [{ type: 'volume.delete' }, { type: 'os-reserve' }, { type: 'os-attach' }, { type: 'storage.done', phase: p }] as VolumeEvent[]) {
        expect(['maintenance', 'reset_creating']).not.toContain(volumePhaseOf(stepVolume(volumeIn(p), e).next));
      }
    }
    // Force delete leaves both, as Cinder's force delete leaves any status.
    expect(volumePhaseOf(stepVolume(volumeIn('maintenance'), { type: 'os-force_delete' }).next)).toBe('deleting');
    expect(volumePhaseOf(stepVolume(volumeIn('reset_creating'), { type: 'os-force_delete' }).next)).toBe('deleting');
  });

  it('keeps the volume in use while attachments remain, and tracks attach_status in its context', () => {
    const inUse = volumeIn('in-use', { attachStatus: 'attached' });
    const one = stepVolume(inUse, { type: 'os-detach', remaining: 1 });
    expect([volumePhaseOf(one.next), one.next.context.attachStatus]).toEqual(['in-use', 'attached']);
    const last = stepVolume(inUse, { type: 'os-detach', remaining: 0 });
    expect([volumePhaseOf(last.next), last.next.context.attachStatus]).toEqual(['available', 'detached']);
    // Nothing to detach: refused, the volume as it was.
    const none = stepVolume(volumeIn('in-use', { attachStatus: 'detached' }), { type: 'os-detach', remaining: 0 });
    expect([none.accepted, volumePhaseOf(none.next)]).toEqual([false, 'in-use']);
    // Unreserving a volume that has attachments leaves it in use, as Cinder's Case does.
    expect(volumePhaseOf(stepVolume(volumeIn('attaching', { attachStatus: 'attached' }), { type: 'os-unreserve' }).next)).toBe('in-use');
  });

  it('records why a volume is in error, and clears it when the volume leaves', () => {
    const failed = stepVolume(volumeIn('creating'), { type: 'storage.failed', phase: 'creating', reason: 'no space' });
    expect([volumePhaseOf(failed.next), failed.next.context.reason]).toEqual(['error', 'driver_error: no space']);
    const reset = stepVolume(failed.next, { type: 'os-reset_status', status: 'available' });
    expect(reset.next.context.reason).toBeNull();
    // A result for another phase is stale.
    expect(stepVolume(volumeIn('deleting'), { type: 'storage.done', phase: 'creating' }).accepted).toBe(false);
  });

  it('asks for its effects, and restores what it persisted', () => {
    const created = stepVolume(initialVolumeSnapshot(), { type: 'volume.create' });
    expect([created.accepted, volumePhaseOf(created.next), created.effects]).toEqual([true, 'creating', ['createVolume']]);
    const forced = stepVolume(volumeIn('in-use', { attachStatus: 'attached' }), { type: 'os-force_delete' });
    expect([volumePhaseOf(forced.next), forced.effects]).toEqual(['deleting', ['deleteVolume']]);
    // Forced again while deleting: the delete under way goes on (no second driver call).
    const again = stepVolume(forced.next, { type: 'os-force_delete' });
    expect([again.accepted, volumePhaseOf(again.next), again.effects]).toEqual([true, 'deleting', []]);
    const persisted = JSON.parse(JSON.stringify(persistVolume(forced.next)));
    expect(restoreVolume(persisted).value).toEqual(forced.next.value);
    expect(restoreVolume(persisted).context).toEqual(forced.next.context);
  });
});

describe('the statechart helpers both machines share', () => {
  const machine = setup({ actions: { effect: () => {} } }).createMachine({
    id: 'm',
    initial: 'a',
    states: {
      a: { meta: { status: 'one' }, on: { go: { target: 'b.inner', actions: { type: 'effect', params: { kind: 'work' } } } } },
      b: { meta: { status: 'two' }, initial: 'inner', states: { inner: { meta: { effect: 'work' } } } },
    },
  });

  it('reads leaves, inherited and own meta off any machine', () => {
    const chart = statechartOf(machine);
    expect(chart.leafPhases).toEqual(['a', 'b.inner']);
    expect([chart.statusOfPhase('b.inner'), chart.ownMeta('b.inner', 'status'), chart.ownMeta('b.inner', 'effect')]).toEqual(['two', undefined, 'work']);
    expect(() => chart.statusOfPhase('nowhere')).toThrow('unknown m phase nowhere');
  });

  it('steps purely and refuses an effect the machine does not declare', () => {
    const start = machine.resolveState({ value: 'a', context: {} });
    const step = stepMachine(machine, start, { type: 'go' }, ['work']);
    expect([step.accepted, leafOf(step.next), step.effects]).toEqual([true, 'b.inner', ['work']]);
    expect(() => stepMachine(machine, start, { type: 'go' }, ['other'])).toThrow('m machine asked for unknown effect work');
    expect(stepMachine(machine, start, { type: 'unknown' } as never, ['work']).accepted).toBe(false);
  });
});
