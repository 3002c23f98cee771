import { describe, expect, it } from 'vitest';
import {
  assistedInFlightPhases,
  callbackTransitions,
  computeWaitOfPhase,
  effectOfPhase,
  persist,
  persistedPhases,
  phaseOf,
  restore,
  snapshotIn,
  snapshotStatuses,
  statusOfPhase,
  step,
  initialSnapshot,
} from '../../machines/derive.js';
import { reconcileVerdicts, snapshotMachine, type ReconcileVerdict } from '../../machines/snapshot.js';

describe('what the rest of the service reads off the machine', () => {
  it('derives Cinder\'s os-update_snapshot_status table (reference §4) exactly', () => {
    expect(Object.fromEntries([...callbackTransitions].map(([k, v]) => [k, [...v].sort()]))).toEqual({
      creating: ['available', 'creating', 'error'],
      deleting: ['deleting', 'error_deleting'],
    });
  });

  it('declares a Cinder status for every state', () => {
    expect(snapshotStatuses).toEqual(['creating', 'available', 'deleting', 'error', 'error_deleting', 'deleted']);
    expect(persistedPhases.map((p) => [p, statusOfPhase(p)])).toEqual([
      ['creating.storageBegin', 'creating'],
      ['creating.computeAssisted', 'creating'],
      ['creating.reconciling', 'creating'],
      ['creating.storageComplete', 'creating'],
      ['creating.driverCreate', 'creating'],
      ['available', 'available'],
      ['deleting.storageBegin', 'deleting'],
      ['deleting.computeAssisted', 'deleting'],
      ['deleting.reconciling', 'deleting'],
      ['deleting.storageComplete', 'deleting'],
      ['deleting.driverDelete', 'deleting'],
      ['error', 'error'],
      ['error_deleting', 'error_deleting'],
      ['deleted', 'deleted'],
    ]);
  });

  it('asks for exactly one effect per working phase and waits for compute only in compute phases', () => {
    expect(persistedPhases.filter((p) => computeWaitOfPhase(p)).map((p) => [p, computeWaitOfPhase(p)])).toEqual([
      ['creating.computeAssisted', 'create'],
      ['deleting.computeAssisted', 'delete'],
    ]);
    for (const phase of persistedPhases) {
      const effect = effectOfPhase(phase);
      if (!effect) continue;
      // Entering the phase from outside must request that effect and nothing else.
      const entered = phase.startsWith('creating')
        ? step(initialSnapshot(), { type: 'snapshot.create', assisted: phase !== 'creating.driverCreate' })
        : step(snapshotIn('available'), { type: 'snapshot.delete', assisted: phase !== 'deleting.driverDelete' });
      if (phaseOf(entered.next) === phase) expect(entered.effects).toEqual([effect]);
    }
  });

  it('knows which phases hold a volume for an assisted operation in flight', () => {
    expect(assistedInFlightPhases).toEqual([
      'creating.computeAssisted',
      'creating.reconciling',
      'creating.storageComplete',
      'deleting.computeAssisted',
      'deleting.reconciling',
      'deleting.storageComplete',
    ]);
  });

  it('keeps storage results to the phase that asked for them', () => {
    const s = snapshotIn('creating.storageComplete', { assisted: true });
    expect(step(s, { type: 'storage.done', phase: 'creating.storageBegin' }).accepted).toBe(false);
    expect(phaseOf(step(s, { type: 'storage.done', phase: 'creating.storageComplete' }).next)).toBe('available');
  });

  it('reads both callback forms; the new form wins when present', () => {
    const s = snapshotIn('creating.computeAssisted', { assisted: true });
    const after = (e: Parameters<typeof step>[1]) => {
      const r = step(s, e);
      return r.accepted ? `${phaseOf(r.next)} ${r.next.context.progress} ${r.next.context.reason ?? ''}`.trim() : 'rejected';
    };
    expect(after({ type: 'compute.status', status: 'creating', progress: '90%' })).toBe('creating.storageComplete 90%');
    expect(after({ type: 'compute.status', status: 'creating', progress: '50%' })).toBe('creating.computeAssisted 50%');
    expect(after({ type: 'compute.status', status: 'available' })).toBe('creating.storageComplete 0%');
    expect(after({ type: 'compute.status', status: 'error' })).toBe('error 0% compute_error');
    expect(after({ type: 'compute.status', status: 'creating', progress: '90%', computeStatus: 'in-progress', computeProgress: '95%' })).toBe(
      'creating.computeAssisted 95%',
    );
    expect(after({ type: 'compute.status', status: 'creating', computeStatus: 'complete' })).toBe('creating.storageComplete 0%');
    expect(after({ type: 'compute.status', status: 'creating', computeStatus: 'error' })).toBe('error 0% compute_error');
    expect(after({ type: 'compute.status', status: 'deleting', computeStatus: 'complete' })).toBe('rejected');
    expect(after({ type: 'timer.expired', phase: 'creating.computeAssisted' })).toBe('creating.reconciling 0%');
    expect(after({ type: 'timer.expired', phase: 'deleting.computeAssisted' })).toBe('rejected');
  });

  it('reconciles after compute\'s deadline: each verdict has one outcome, and only that phase\'s', () => {
    const outcome = (phase: string, e: Parameters<typeof step>[1]) => {
      const r = step(snapshotIn(phase, { assisted: true }), e);
      return r.accepted ? `${phaseOf(r.next)} ${r.effects.join(',')} ${r.next.context.reason ?? ''}`.trim() : 'rejected';
    };
    const verdict = (phase: string, v: ReconcileVerdict) => outcome(phase, { type: 'storage.reconciled', phase, verdict: v, reason: 'seen' });
    expect(outcome('creating.computeAssisted', { type: 'timer.expired', phase: 'creating.computeAssisted' })).toBe('creating.reconciling reconcileCreate');
    expect(outcome('deleting.computeAssisted', { type: 'timer.expired', phase: 'deleting.computeAssisted' })).toBe('deleting.reconciling reconcileDelete');
    expect(Object.fromEntries(reconcileVerdicts.map((v) => [v, verdict('creating.reconciling', v)]))).toEqual({
      in_use: 'creating.storageComplete createSnapshotAssistedComplete',
      rolled_back: 'error  compute_timeout_rolled_back: seen',
      merged: 'rejected',
      not_merged: 'rejected',
      unverified: 'error  compute_timeout_unverified: seen',
    });
    expect(Object.fromEntries(reconcileVerdicts.map((v) => [v, verdict('deleting.reconciling', v)]))).toEqual({
      in_use: 'rejected',
      rolled_back: 'rejected',
      merged: 'deleting.storageComplete deleteSnapshotAssistedComplete',
      not_merged: 'error_deleting  compute_timeout_not_merged: seen',
      unverified: 'error_deleting  compute_timeout_unverified: seen',
    });
    // A verdict for another phase is stale.
    expect(outcome('creating.reconciling', { type: 'storage.reconciled', phase: 'deleting.reconciling', verdict: 'merged', reason: 'x' })).toBe('rejected');
    // A late callback that ends compute's part is taken; an in-progress one is not.
    expect(outcome('creating.reconciling', { type: 'compute.status', status: 'creating', progress: '90%' })).toBe('creating.storageComplete createSnapshotAssistedComplete');
    expect(outcome('creating.reconciling', { type: 'compute.status', status: 'error' })).toBe('error  compute_error');
    expect(outcome('creating.reconciling', { type: 'compute.status', status: 'creating', progress: '50%' })).toBe('rejected');
    expect(outcome('deleting.reconciling', { type: 'compute.status', status: 'deleting', computeStatus: 'complete' })).toBe('deleting.storageComplete deleteSnapshotAssistedComplete');
    // The admin action: from the two error states only, each to its operation's reconciling.
    for (const phase of persistedPhases) {
      const r = step(snapshotIn(phase, { reason: 'compute_timeout_unverified: x' }), { type: 'admin.reconcile' });
      const expected = phase === 'error' ? 'creating.reconciling' : phase === 'error_deleting' ? 'deleting.reconciling' : null;
      expect([phase, r.accepted ? phaseOf(r.next) : null]).toEqual([phase, expected]);
      if (r.accepted) expect([r.effects, r.next.context.reason]).toEqual([[effectOfPhase(expected!)], null]);
    }
  });

  it('round-trips through its persisted form', () => {
    const s = snapshotIn('deleting.computeAssisted', { assisted: true, progress: '42%' });
    const back = restore(JSON.parse(JSON.stringify(persist(s))));
    expect([phaseOf(back), back.context]).toEqual([phaseOf(s), s.context]);
  });

  it('stays pure: no invoke and no delayed transitions anywhere', () => {
    const json = JSON.stringify(snapshotMachine.config);
    expect(json).not.toMatch(/"invoke"|"after"/);
  });
});
