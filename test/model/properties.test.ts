// Property-based: random interleavings of callbacks (both forms), duplicates, worker runs, clock
// jumps past deadlines, reconcile verdicts, admin actions (reconcile included), delete requests and restarts. After every step the
// persisted state must be valid and agree with itself; at the end, once compute answers or the
// deadline passes, the snapshot must rest in a terminal state with a gap-free history.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeWaitOfPhase, isTerminalStatus, phaseOf, restore, snapshotStatuses, statusOfPhase } from '../../machines/derive.js';
import { reconcileVerdicts, resettableStatuses } from '../../machines/snapshot.js';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { ManualClock, TestCompute, TestDriver } from '../support/doubles.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';

const WAITS = { create: 60, delete: 120 };

const progressArb = fc.constantFrom(undefined, '0%', '10%', '50%', '90%', '100%');
const command = fc.oneof(
  fc.record({
    kind: fc.constant('callback' as const),
    status: fc.constantFrom(...snapshotStatuses, 'bogus'),
    progress: progressArb,
    computeSnapshotStatus: fc.constantFrom(undefined, 'in-progress' as const, 'complete' as const, 'error' as const),
    computeProgress: progressArb,
  }),
  fc.constant({ kind: 'duplicate' as const }),
  fc.record({ kind: fc.constant('work' as const), jobs: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('clock' as const), seconds: fc.constantFrom(1, 59, 61, 121, 3600) }),
  fc.record({ kind: fc.constant('reset' as const), status: fc.constantFrom(...resettableStatuses) }),
  fc.constant({ kind: 'forceDelete' as const }),
  fc.constant({ kind: 'reconcile' as const }),
  fc.record({ kind: fc.constant('verdict' as const), verdict: fc.constantFrom(...reconcileVerdicts) }),
  fc.constant({ kind: 'delete' as const }),
  fc.constant({ kind: 'restart' as const }),
  fc.constant({ kind: 'toggleAttach' as const }),
);
type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

async function expectConsistent(h: Harness, snapshotId: string) {
  const row = await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id: snapshotId } });
  expect(snapshotStatuses).toContain(row.status);
  expect(row.status).toBe(statusOfPhase(row.phase));
  expect(phaseOf(restore(JSON.parse(row.machineState)))).toBe(row.phase);
  expect(row.deadlineAt !== null).toBe(computeWaitOfPhase(row.phase) !== null);
  const history = await h.db.prisma.snapshotTransition.findMany({ where: { snapshotId }, orderBy: { id: 'asc' } });
  const accepted = history.filter((t) => !t.rejected);
  expect(accepted.map((t) => t.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
  // Each accepted row starts where the previous one ended: the history is a chain.
  accepted.forEach((t, i) => expect(t.fromPhase).toBe(i === 0 ? null : accepted[i - 1].toPhase));
  expect(accepted.at(-1)?.toPhase).toBe(row.phase);
  return row;
}

describe.each(providers)('random interleavings on %s', (provider) => {
  it('never persist an invalid state, and always end in a terminal state', async () => {
    const url = await freshDatabaseUrl(provider);
    const clock = new ManualClock();
    const driver = new TestDriver();
    const compute = new TestCompute();
    const open = () => harness(url, { clock, driver, compute, engine: { computeWaitSeconds: WAITS } });
    let h = await open();
    try {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.array(command, { minLength: 1, maxLength: 14 }), async (attached, commands) => {
          driver.verdictNext.length = 0;
          const volume = await volumeFor(h, attached);
          const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
          let last: Extract<Command, { kind: 'callback' }> | null = null;
          const offer = async (c: Extract<Command, { kind: 'callback' }>) => {
            try {
              await h.manager.updateSnapshotStatus(snap.id, {
                status: c.status,
                ...(c.progress ? { progress: c.progress } : {}),
                ...(c.computeSnapshotStatus ? { computeSnapshotStatus: c.computeSnapshotStatus } : {}),
                ...(c.computeProgress ? { computeProgress: c.computeProgress } : {}),
              });
            } catch (err) {
              if (!(err instanceof InvalidRequest || err instanceof NotFound)) throw err;
            }
          };
          const refusalsAllowed = async (fn: () => Promise<unknown>) => {
            try {
              await fn();
            } catch (err) {
              if (!(err instanceof InvalidRequest || err instanceof NotFound)) throw err;
            }
          };
          for (const c of commands) {
            switch (c.kind) {
              case 'callback':
                last = c;
                await offer(c);
                break;
              case 'duplicate':
                if (last) await offer(last);
                break;
              case 'work':
                for (let i = 0; i < c.jobs; i++) await h.worker.runOne();
                break;
              case 'clock':
                clock.advance(c.seconds);
                await h.sweep();
                break;
              case 'reset':
                await refusalsAllowed(() => h.manager.resetSnapshotStatus(snap.id, c.status));
                break;
              case 'reconcile':
                await refusalsAllowed(() => h.manager.reconcileSnapshot(snap.id));
                break;
              case 'verdict':
                // What the next reconcile run will find.
                driver.verdictNext.push(c.verdict);
                break;
              case 'forceDelete':
                await refusalsAllowed(() => h.manager.forceDeleteSnapshot(snap.id));
                break;
              case 'delete':
                await refusalsAllowed(() => h.manager.deleteSnapshot(snap.id));
                break;
              case 'restart':
                await h.close();
                h = await open();
                break;
              case 'toggleAttach': {
                const v = await h.db.prisma.volume.findUniqueOrThrow({ where: { id: volume.id } });
                if (v.attachStatus === 'attached') await h.manager.detachVolume(volume.id);
                else await h.manager.attachVolume(volume.id, { instanceUuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdb' });
                break;
              }
            }
            await expectConsistent(h, snap.id);
          }

          // Let it settle: work runs, and compute either answers (even rounds) or stays silent
          // until the deadline passes. A bounded number of rounds must reach a terminal state.
          let row = await expectConsistent(h, snap.id);
          for (let round = 0; round < 6 && !isTerminalStatus(row.status); round++) {
            await h.worker.drain();
            row = await expectConsistent(h, snap.id);
            const wait = computeWaitOfPhase(row.phase);
            if (wait && round % 2 === 0) {
              await offer({ kind: 'callback', status: row.status, progress: '90%', computeSnapshotStatus: undefined, computeProgress: undefined });
            } else if (wait) {
              clock.advance(WAITS[wait] + 1);
              await h.sweep();
            }
            row = await expectConsistent(h, snap.id);
          }
          expect(isTerminalStatus(row.status)).toBe(true);
        }),
        { numRuns: 100, endOnFailure: true },
      );
    } finally {
      await h.close();
    }
  });
});
