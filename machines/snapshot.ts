// The lifecycle of one snapshot, from the create request to `deleted`.
//
// The machine is pure on purpose: no `invoke`, no `after`. Work on storage and compute is
// declared as `effect` actions that the engine turns into outbox rows after the state is
// committed; their results come back as events. Waiting for compute is bounded by a deadline
// that the engine keeps in the database (`meta.computeWait` says which one), and expiry arrives
// as a `timer.expired` event. That keeps the machine traversable by `xstate/graph` and makes a
// persisted snapshot resumable in any process.
import { assign, enqueueActions, setup } from 'xstate';

/** Side effects the machine can ask for; each is one driver phase or one compute request. */
export const effectKinds = [
  'createSnapshot',
  'createSnapshotAssistedBegin',
  'createSnapshotAssistedComplete',
  'deleteSnapshot',
  'deleteSnapshotAssistedBegin',
  'deleteSnapshotAssistedComplete',
  'requestComputeCreate',
  'requestComputeDelete',
  'reconcileCreate',
  'reconcileDelete',
  'resumeGuest',
] as const;
export type EffectKind = (typeof effectKinds)[number];

const computeRequests = ['requestComputeCreate', 'requestComputeDelete'] as const satisfies readonly EffectKind[];
/** Effects that ask compute for its part (the rest are driver phases). */
export const computeEffectKinds: readonly EffectKind[] = computeRequests;
export type ComputeEffectKind = (typeof computeRequests)[number];
/**
 * Effects a storage driver carries out, one method of the driver each. `resumeGuest` is neither:
 * it is no phase's work but owed whatever the snapshot does next (the worker's runResume).
 */
export type DriverPhase = Exclude<EffectKind, ComputeEffectKind | 'resumeGuest'>;
/** The phases that open an assisted operation, and those that carry it on until it is complete. */
export const assistedBeginEffects: readonly EffectKind[] = ['createSnapshotAssistedBegin', 'deleteSnapshotAssistedBegin'];
export const assistedContinuationEffects: readonly EffectKind[] = [
  ...computeEffectKinds,
  'createSnapshotAssistedComplete',
  'deleteSnapshotAssistedComplete',
  // Reconciling decides what became of compute's part; until it has, the chain is not settled.
  'reconcileCreate',
  'reconcileDelete',
];

/**
 * What a reconcile phase found, from the storage side's evidence (backing chain, image locks,
 * the compute agent's status extension). A create's new overlay is `in_use` (the instance writes
 * to it: the create completes) or was unused and has been `rolled_back` (removed, .info as before
 * the create); a delete's merge is `merged` (the delete completes) or `not_merged`. `unverified`:
 * the evidence does not settle it either way, so nothing was changed.
 */
export const reconcileVerdicts = ['in_use', 'rolled_back', 'merged', 'not_merged', 'unverified'] as const;
export type ReconcileVerdict = (typeof reconcileVerdicts)[number];

/** How long compute may take for its part, in seconds, unless configured otherwise. */
export const defaultComputeWaitSeconds = { create: 600, delete: 7200 } as const;
export type ComputeWait = keyof typeof defaultComputeWaitSeconds;

/** The new callback field's values (the "Assisted Snapshot Improvements" spec). */
export const computeSnapshotStatuses = ['in-progress', 'complete', 'error'] as const;
export type ComputeSnapshotStatus = (typeof computeSnapshotStatuses)[number];

/**
 * What a compute callback may say, per operation, in Cinder's legacy vocabulary: `unchanged`
 * with progress "90%" is Nova's "my part is done", `failed` is Nova's failure, and `done` are
 * further statuses Cinder lets a caller request directly (treated as "compute finished").
 */
export const legacyCallbackVocabulary = {
  create: { unchanged: 'creating', done: ['available'], failed: 'error' },
  delete: { unchanged: 'deleting', done: [] as string[], failed: 'error_deleting' },
} as const satisfies Record<ComputeWait, { unchanged: string; done: readonly string[]; failed: string }>;

/** The progress value with which an unmodified Nova says it finished. */
export const LEGACY_COMPUTE_DONE_PROGRESS = '90%';

export interface SnapshotContext {
  /** Whether the current operation goes through compute (chosen by the engine per request). */
  assisted: boolean;
  /** The Cinder-visible progress string. */
  progress: string;
  /** Why the snapshot is in error / error_deleting; null otherwise. */
  reason: string | null;
  /** Last `compute_snapshot_status` reported for the current operation, if any. */
  computeStatus: ComputeSnapshotStatus | null;
  /**
   * The create asks compute to pause the guest around the overlay switch (decided per request by
   * the storage side's policy, only when compute is the agent that can do it).
   */
  pauseGuest?: boolean;
  /**
   * Compute may have the guest paused right now: from the create request on until the machine
   * leaves compute's create phase, by any way out. Leaving clears it and queues `resumeGuest`.
   */
  guestPaused?: boolean;
}

export type SnapshotEvent =
  | { type: 'snapshot.create'; assisted: boolean; pauseGuest?: boolean }
  | { type: 'snapshot.delete'; assisted: boolean }
  | {
      type: 'storage.done';
      phase: string;
      /** A begin phase found nothing for compute to do (e.g. a delete with nothing to merge). */
      skipCompute?: boolean;
    }
  | { type: 'storage.failed'; phase: string; reason: string }
  | { type: 'compute.failed'; phase: string; reason: string }
  | {
      type: 'compute.status';
      /** Cinder's `status` field: required by the API in both forms. */
      status: string;
      progress?: string;
      /** The new form; when present it decides the meaning of the callback. */
      computeStatus?: ComputeSnapshotStatus;
      computeProgress?: string;
    }
  | { type: 'timer.expired'; phase: string }
  | {
      type: 'storage.reconciled';
      phase: string;
      verdict: ReconcileVerdict;
      /** What the verdict rests on, in words (becomes the error reason's detail). */
      reason: string;
      /** The evidence itself, for the history and the admin metadata. */
      evidence?: Record<string, unknown>;
    }
  | { type: 'admin.reconcile' }
  | { type: 'admin.reset_status'; status: ResettableStatus }
  | { type: 'admin.force_delete'; assisted: boolean };

export type SnapshotEventType = SnapshotEvent['type'];
export const resettableStatuses = ['available', 'error', 'error_deleting'] as const;
export type ResettableStatus = (typeof resettableStatuses)[number];

type CallbackEvent = Extract<SnapshotEvent, { type: 'compute.status' }>;
type Meaning = 'complete' | 'error' | 'in-progress' | 'invalid';

/** What a compute callback means for an operation; `invalid` callbacks are rejected. */
export function callbackMeaning(op: ComputeWait, event: CallbackEvent): Meaning {
  const vocab = legacyCallbackVocabulary[op];
  const known = [vocab.unchanged, vocab.failed, ...vocab.done];
  if (!known.includes(event.status)) return 'invalid';
  if (event.computeStatus) return event.computeStatus;
  if (event.status === vocab.failed) return 'error';
  if ((vocab.done as readonly string[]).includes(event.status)) return 'complete';
  return event.progress === LEGACY_COMPUTE_DONE_PROGRESS ? 'complete' : 'in-progress';
}

const reportedProgress = (event: CallbackEvent, current: string) =>
  event.computeProgress ?? event.progress ?? current;

export const snapshotMachine = setup({
  types: {
    context: {} as SnapshotContext,
    events: {} as SnapshotEvent,
  },
  actions: {
    // Deliberately empty: the engine reads these from `transition()`'s action list and
    // writes them to the outbox in the same transaction as the new state.
    effect: (_args, _params: { kind: EffectKind }) => {},
    startOperation: assign(({ event }) => ({
      assisted: 'assisted' in event ? Boolean(event.assisted) : false,
      reason: null,
      computeStatus: null,
      pauseGuest: event.type === 'snapshot.create' && event.assisted && event.pauseGuest === true,
    })),
    // The pause window opens with the create request: compute may stop the guest any time after.
    openPauseWindow: assign(({ context }) => ({ guestPaused: context.pauseGuest === true })),
    // Every way out of the window (callback, refusal, timeout, admin reset, force delete) passes
    // here, so "left the window => resume queued" holds by construction; the graph test checks it.
    closePauseWindow: enqueueActions(({ context, enqueue }) => {
      if (!context.guestPaused) return;
      // `enqueue` is typed before setup() knows its own actions, hence the cast; the engine
      // checks every effect kind it reads from a step (machines/statechart.ts).
      enqueue({ type: 'effect', params: { kind: 'resumeGuest' satisfies EffectKind } } as never);
      enqueue.assign({ guestPaused: false });
    }),
    resetProgress: assign({ progress: '0%' }),
    completeProgress: assign({ progress: '100%' }),
    recordCallback: assign(({ context, event }) => {
      const e = event as CallbackEvent;
      return { progress: reportedProgress(e, context.progress), computeStatus: e.computeStatus ?? null };
    }),
    fail: assign(({ event }, params: { reason: string }) => {
      const detail = 'reason' in event && event.reason ? `: ${event.reason}` : '';
      return { reason: `${params.reason}${detail}` };
    }),
    clearReason: assign({ reason: null }),
  },
  guards: {
    assisted: ({ event }) => 'assisted' in event && event.assisted === true,
    forPhase: ({ event }, params: { phase: string }) => 'phase' in event && event.phase === params.phase,
    skipsCompute: ({ event }, params: { phase: string }) =>
      event.type === 'storage.done' && event.phase === params.phase && event.skipCompute === true,
    callbackMeans: ({ event }, params: { op: ComputeWait; meaning: Meaning }) =>
      event.type === 'compute.status' && callbackMeaning(params.op, event) === params.meaning,
    resetTo: ({ event }, params: { status: ResettableStatus }) =>
      event.type === 'admin.reset_status' && event.status === params.status,
    verdictIs: ({ event }, params: { phase: string; verdict: ReconcileVerdict }) =>
      event.type === 'storage.reconciled' && event.phase === params.phase && event.verdict === params.verdict,
  },
}).createMachine({
  id: 'snapshot',
  initial: 'new',
  context: { assisted: false, progress: '0%', reason: null, computeStatus: null },
  states: {
    new: {
      meta: { status: 'creating', description: 'Not yet persisted: the create request is its first event.' },
      on: {
        'snapshot.create': [
          { guard: 'assisted', target: 'creating.storageBegin', actions: 'startOperation' },
          { target: 'creating.driverCreate', actions: 'startOperation' },
        ],
      },
    },
    creating: {
      meta: { status: 'creating' },
      on: adminActions(),
      // Entered only through explicit targets; `initial` is required by XState, not used.
      initial: 'storageBegin',
      entry: 'resetProgress',
      states: {
        storageBegin: storagePhase('creating.storageBegin', 'createSnapshotAssistedBegin', 'computeAssisted', '#snapshot.error', 'driver_error', 'storageComplete'),
        computeAssisted: {
          ...computePhase('creating.computeAssisted', 'create', 'requestComputeCreate', 'storageComplete', '#snapshot.error', 'reconciling'),
          entry: [{ type: 'effect' as const, params: { kind: 'requestComputeCreate' as const } }, 'openPauseWindow' as const],
          exit: 'closePauseWindow' as const,
        },
        reconciling: reconcilingPhase('creating.reconciling', 'create', 'reconcileCreate', 'storageComplete', '#snapshot.error', [
          { verdict: 'rolled_back', reason: 'compute_timeout_rolled_back' },
          { verdict: 'unverified', reason: 'compute_timeout_unverified' },
        ]),
        storageComplete: storagePhase('creating.storageComplete', 'createSnapshotAssistedComplete', '#snapshot.available', '#snapshot.error', 'driver_error'),
        driverCreate: storagePhase('creating.driverCreate', 'createSnapshot', '#snapshot.available', '#snapshot.error', 'driver_error'),
      },
    },
    available: {
      meta: { status: 'available' },
      entry: ['completeProgress', 'clearReason'],
      on: { ...adminActions(), 'snapshot.delete': deleteRequest() },
    },
    deleting: {
      meta: { status: 'deleting' },
      on: adminActions(),
      initial: 'storageBegin',
      states: {
        storageBegin: storagePhase('deleting.storageBegin', 'deleteSnapshotAssistedBegin', 'computeAssisted', '#snapshot.error_deleting', 'driver_error', 'storageComplete'),
        computeAssisted: computePhase('deleting.computeAssisted', 'delete', 'requestComputeDelete', 'storageComplete', '#snapshot.error_deleting', 'reconciling'),
        reconciling: reconcilingPhase('deleting.reconciling', 'delete', 'reconcileDelete', 'storageComplete', '#snapshot.error_deleting', [
          { verdict: 'not_merged', reason: 'compute_timeout_not_merged' },
          { verdict: 'unverified', reason: 'compute_timeout_unverified' },
        ]),
        storageComplete: storagePhase('deleting.storageComplete', 'deleteSnapshotAssistedComplete', '#snapshot.deleted', '#snapshot.error_deleting', 'driver_error'),
        driverDelete: storagePhase('deleting.driverDelete', 'deleteSnapshot', '#snapshot.deleted', '#snapshot.error_deleting', 'driver_error'),
      },
    },
    // An admin may ask for a failed operation to be reconciled with the files: a create that
    // failed may have been carried out by compute after all, a delete may have been merged.
    error: {
      meta: { status: 'error' },
      on: { ...adminActions(), 'snapshot.delete': deleteRequest(), 'admin.reconcile': { target: '#snapshot.creating.reconciling', actions: 'clearReason' } },
    },
    error_deleting: {
      meta: { status: 'error_deleting' },
      on: { ...adminActions(), 'snapshot.delete': deleteRequest(), 'admin.reconcile': { target: '#snapshot.deleting.reconciling', actions: 'clearReason' } },
    },
    deleted: {
      type: 'final',
      meta: { status: 'deleted' },
    },
  },
});

// The builders below only shape configuration data, so the machine stays drawable and
// traversable; they exist because every phase follows the same pattern and a copy per phase
// would drift.

/**
 * Admin actions apply wherever a persisted snapshot is; not in `new` (nothing exists yet) and
 * not in `deleted` (final).
 */
function adminActions() {
  return {
    'admin.reset_status': [
      { guard: { type: 'resetTo' as const, params: { status: 'available' as const } }, target: '#snapshot.available' },
      {
        guard: { type: 'resetTo' as const, params: { status: 'error' as const } },
        target: '#snapshot.error',
        actions: { type: 'fail' as const, params: { reason: 'reset_by_admin' } },
      },
      {
        guard: { type: 'resetTo' as const, params: { status: 'error_deleting' as const } },
        target: '#snapshot.error_deleting',
        actions: { type: 'fail' as const, params: { reason: 'reset_by_admin' } },
      },
    ],
    'admin.force_delete': deleteRequest(),
  };
}

function deleteRequest() {
  return [
    { guard: 'assisted' as const, target: '#snapshot.deleting.storageBegin', actions: 'startOperation' as const },
    { target: '#snapshot.deleting.driverDelete', actions: 'startOperation' as const },
  ];
}

/**
 * A phase in which the storage driver works; its result is only accepted in this phase. A begin
 * phase may report that compute has nothing to do (`onSkipCompute`): then storage completes alone.
 */
function storagePhase(phase: string, kind: EffectKind, onDone: string, onFail: string, reason: string, onSkipCompute?: string) {
  const done = { guard: { type: 'forPhase' as const, params: { phase } }, target: onDone };
  return {
    meta: { effect: kind },
    entry: { type: 'effect' as const, params: { kind } },
    on: {
      'storage.done': onSkipCompute
        ? [{ guard: { type: 'skipsCompute' as const, params: { phase } }, target: onSkipCompute }, done]
        : [done],
      'storage.failed': {
        guard: { type: 'forPhase' as const, params: { phase } },
        target: onFail,
        actions: { type: 'fail' as const, params: { reason } },
      },
    },
  };
}

/**
 * A phase in which compute does the live part and reports back through callbacks. When its
 * deadline passes the snapshot is not failed on trust: it goes to `onTimeout`, where the driver
 * reconciles with what the files show.
 */
function computePhase(phase: string, op: ComputeWait, kind: EffectKind, onDone: string, onFail: string, onTimeout: string) {
  return {
    meta: { effect: kind, computeWait: op },
    entry: { type: 'effect' as const, params: { kind } },
    on: {
      'compute.status': [
        {
          guard: { type: 'callbackMeans' as const, params: { op, meaning: 'error' as const } },
          target: onFail,
          actions: ['recordCallback' as const, { type: 'fail' as const, params: { reason: 'compute_error' } }],
        },
        {
          guard: { type: 'callbackMeans' as const, params: { op, meaning: 'complete' as const } },
          target: onDone,
          actions: 'recordCallback' as const,
        },
        {
          guard: { type: 'callbackMeans' as const, params: { op, meaning: 'in-progress' as const } },
          actions: 'recordCallback' as const,
        },
      ],
      'compute.failed': {
        guard: { type: 'forPhase' as const, params: { phase } },
        target: onFail,
        actions: { type: 'fail' as const, params: { reason: 'compute_refused' } },
      },
      'timer.expired': {
        guard: { type: 'forPhase' as const, params: { phase } },
        target: onTimeout,
      },
    },
  };
}

/**
 * Compute went quiet (or an admin asked): the driver inspects the chain, the image locks and
 * compute's own report, and answers `storage.reconciled` with a verdict. The verdict that says
 * compute's part is done continues to the complete phase, which records it as a callback would
 * have; the others end the operation in `onFail` with a reason naming the verdict.
 *
 * A late callback is still accepted here when it ends compute's part (complete or error): it is
 * compute's own word, and the reconcile job's result is then refused as stale by the version
 * guard, so exactly one of the two decides. The reconcile phase itself only reads until its
 * verdict, and a rollback re-checks under the volume lock, so a stale result has changed
 * nothing the complete phase relies on. An in-progress callback is refused: it would move the
 * version and orphan the reconcile job's result, and after the deadline it is no news.
 */
function reconcilingPhase(
  phase: string,
  op: ComputeWait,
  kind: EffectKind,
  onDone: string,
  onFail: string,
  failures: readonly { verdict: ReconcileVerdict; reason: string }[],
) {
  const done: ReconcileVerdict = op === 'create' ? 'in_use' : 'merged';
  return {
    meta: { effect: kind },
    entry: { type: 'effect' as const, params: { kind } },
    on: {
      'storage.reconciled': [
        { guard: { type: 'verdictIs' as const, params: { phase, verdict: done } }, target: onDone },
        ...failures.map(({ verdict, reason }) => ({
          guard: { type: 'verdictIs' as const, params: { phase, verdict } },
          target: onFail,
          actions: { type: 'fail' as const, params: { reason } },
        })),
      ],
      'storage.failed': {
        guard: { type: 'forPhase' as const, params: { phase } },
        target: onFail,
        actions: { type: 'fail' as const, params: { reason: 'compute_timeout_unverified: reconcile failed' } },
      },
      'compute.status': [
        {
          guard: { type: 'callbackMeans' as const, params: { op, meaning: 'error' as const } },
          target: onFail,
          actions: ['recordCallback' as const, { type: 'fail' as const, params: { reason: 'compute_error' } }],
        },
        {
          guard: { type: 'callbackMeans' as const, params: { op, meaning: 'complete' as const } },
          target: onDone,
          actions: 'recordCallback' as const,
        },
      ],
    },
  };
}

export type SnapshotMachine = typeof snapshotMachine;
