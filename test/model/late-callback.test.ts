// Issue 10: a late callback during reconciliation. Compute's deadline passed and the driver is
// reconciling with the files when compute's callback arrives after all, at any moment of the
// reconcile job: before it is claimed, after its claim, while the driver looks, or after its
// verdict committed. The decision (machines/snapshot.ts, reconcilingPhase): a callback that ends
// compute's part (complete or error) is accepted until the verdict has committed, and the
// verdict is then refused as stale; an in-progress callback, or any callback after the verdict,
// is refused. Property: whatever the interleaving, exactly one of the two decides, the snapshot
// ends in the one state that answer means, and the history is one gap-free chain.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminalStatus } from '../../machines/derive.js';
import { InvalidRequest } from '../../src/manager/errors.js';
import type { SnapshotStatusUpdate } from '../../src/manager/volume-manager.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';

const WAITS = { create: 60, delete: 120 };

const scenario = fc.record({
  op: fc.constantFrom('create' as const, 'delete' as const),
  /** What the files show: compute's part done, not done, or nothing conclusive. */
  found: fc.constantFrom('in_use' as const, 'rolled_back' as const, 'unverified' as const),
  callback: fc.constantFrom('complete-legacy' as const, 'complete-new' as const, 'error' as const, 'in-progress' as const),
  moment: fc.constantFrom('before-claim' as const, 'after-claim' as const, 'while-looking' as const, 'after-verdict' as const),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function callbackFor(op: 'create' | 'delete', kind: Scenario['callback']): SnapshotStatusUpdate {
  const unchanged = op === 'create' ? 'creating' : 'deleting';
  switch (kind) {
    case 'complete-legacy':
      return { status: unchanged, progress: '90%' };
    case 'complete-new':
      return { status: unchanged, computeSnapshotStatus: 'complete', computeProgress: '100%' };
    case 'error':
      return { status: op === 'create' ? 'error' : 'error_deleting' };
    case 'in-progress':
      return { status: unchanged, progress: '50%' };
  }
}

/** Where each answer leaves the snapshot once the remaining work has run. */
function endOf(op: 'create' | 'delete', decidedBy: 'callback' | 'verdict', s: Scenario): { phase: string; reason: RegExp | null } {
  const done = op === 'create' ? 'available' : 'deleted';
  const failed = op === 'create' ? 'error' : 'error_deleting';
  if (decidedBy === 'callback') return s.callback === 'error' ? { phase: failed, reason: /^compute_error$/ } : { phase: done, reason: null };
  if (s.found === 'in_use') return { phase: done, reason: null };
  if (s.found === 'unverified') return { phase: failed, reason: /^compute_timeout_unverified: / };
  return { phase: failed, reason: op === 'create' ? /^compute_timeout_rolled_back: / : /^compute_timeout_not_merged: / };
}

describe.each(providers)('a late callback during reconciliation on %s', (provider) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(await freshDatabaseUrl(provider), { engine: { computeWaitSeconds: WAITS } });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A snapshot of an attached volume in `<op>.reconciling`, its reconcile job queued. */
  async function reconciling(op: 'create' | 'delete'): Promise<string> {
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    if (op === 'delete') {
      await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '90%' });
      await h.worker.drain();
      await h.manager.deleteSnapshot(snap.id);
      await h.worker.drain();
    }
    h.clock.advance(WAITS[op] + 1);
    const swept = (await h.sweep()).filter((o) => 'snapshotId' in o && o.snapshotId === snap.id);
    expect(swept).toMatchObject([{ kind: 'accepted', toPhase: `${op === 'create' ? 'creating' : 'deleting'}.reconciling` }]);
    return snap.id;
  }

  it('is accepted or refused, and either way the snapshot ends in the one state that answer means', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const id = await reconciling(s.op);
        h.driver.verdictFor.set(id, [s.found]);
        let answered: 'accepted' | 'refused' | null = null;
        const callBack = async () => {
          try {
            await h.manager.updateSnapshotStatus(id, callbackFor(s.op, s.callback));
            answered = 'accepted';
          } catch (err) {
            if (!(err instanceof InvalidRequest)) throw err;
            answered = 'refused';
          }
        };

        if (s.moment === 'before-claim') await callBack();
        const job = await h.worker.claim();
        expect(job?.snapshotId).toBe(id);
        const context = (await h.engine.store.loadJobContext([id])).get(id);
        if (s.moment === 'after-claim') await callBack();
        if (s.moment === 'while-looking') h.driver.duringReconcile = async (sid) => (sid === id ? callBack() : undefined);
        try {
          await h.worker.run(job!, context);
        } finally {
          h.driver.duringReconcile = undefined;
        }
        if (s.moment === 'after-verdict') await callBack();
        await h.worker.drain();

        // Accepted exactly when it ends compute's part and arrives before the verdict committed.
        const ends = s.callback !== 'in-progress';
        expect(answered).toBe(ends && s.moment !== 'after-verdict' ? 'accepted' : 'refused');
        const decidedBy = answered === 'accepted' ? 'callback' : 'verdict';
        const expected = endOf(s.op, decidedBy, s);

        const row = await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id } });
        expect(isTerminalStatus(row.status)).toBe(true);
        expect(row.phase).toBe(expected.phase);
        if (expected.reason) expect(row.errorReason).toMatch(expected.reason);
        else expect(row.errorReason).toBeNull();

        const history = await h.db.prisma.snapshotTransition.findMany({ where: { snapshotId: id }, orderBy: { id: 'asc' } });
        const accepted = history.filter((t) => !t.rejected);
        expect(accepted.map((t) => t.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
        accepted.forEach((t, i) => expect(t.fromPhase).toBe(i === 0 ? null : accepted[i - 1]!.toPhase));
        const leftReconciling = accepted.filter((t) => t.fromPhase?.endsWith('.reconciling'));
        // One answer moved it out of reconciling; the other, if it came at all, is a rejected row.
        expect(leftReconciling.map((t) => t.eventType)).toEqual([decidedBy === 'callback' ? 'compute.status' : 'storage.reconciled']);
        const verdictRows = history.filter((t) => t.eventType === 'storage.reconciled');
        if (decidedBy === 'callback') {
          // Cancelled before it ran (the snapshot had moved on), or run and refused as stale.
          expect(verdictRows.every((t) => t.rejected)).toBe(true);
          if (verdictRows.length > 0) expect(verdictRows[0]!.reason).toMatch(/^stale storage\.reconciled: its job was queued at version/);
        } else {
          expect(verdictRows.map((t) => t.rejected)).toEqual([false]);
          expect(JSON.parse(verdictRows[0]!.payload!)).toMatchObject({ phase: `${s.op === 'create' ? 'creating' : 'deleting'}.reconciling`, evidence: { test: true } });
          const expired = history.findIndex((t) => t.eventType === 'timer.expired' && !t.rejected);
          const callbacks = history.slice(expired + 1).filter((t) => t.eventType === 'compute.status');
          expect(callbacks.map((t) => t.rejected)).toEqual([true]);
        }
        // No work left behind for this snapshot.
        expect(await h.db.prisma.outboxJob.count({ where: { snapshotId: id, status: 'pending' } })).toBe(0);
      }),
      { numRuns: 60, endOnFailure: true },
    );
  });
});
