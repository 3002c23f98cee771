// The lifecycle of one group snapshot: a parent machine whose children are ordinary snapshots,
// one per volume of the group, each driven by the snapshot machine (machines/snapshot.ts) and
// marked with the group snapshot's id.
//
// Pure like the snapshot machine. Starting, deleting and failing the children are `effect`
// actions on the transitions that ask for them (an admin's reset to `creating` asks for nothing), the engine carries out after the parent's state is committed (each is an event offered
// to the children's machines, so they go through the children's history and outbox); what the
// children's machines say comes back as `children.changed`, with the engine's counts of the
// children by status. Waiting for the children is bounded by a deadline the engine keeps in the
// row (`meta.deadline`), and its expiry arrives as `timer.expired`.
//
// Failures follow Cinder's create_group_snapshot / delete_group_snapshot (cinder/volume/
// manager.py): a create that fails for one member puts the group snapshot and every member
// snapshot in `error` (children still working finish first, then are failed too: a snapshot is
// never failed in the middle of its compute's work); a delete that fails for one member leaves
// the group snapshot in `error_deleting`, the members as their own machines left them.
import { assign, setup } from 'xstate';

/** Side effects the parent asks for; each is one event offered to the children's machines. */
export const groupSnapshotEffectKinds = ['createMembers', 'deleteMembers', 'failMembers'] as const;
export type GroupSnapshotEffectKind = (typeof groupSnapshotEffectKinds)[number];

/** How long the children may take, in seconds, unless configured otherwise. */
export const defaultGroupSnapshotWaitSeconds = { create: 900, delete: 7800 } as const;
export type GroupSnapshotWait = keyof typeof defaultGroupSnapshotWaitSeconds;

/** The children of a group snapshot, by what their machines say. */
export interface ChildCounts {
  /** Live (undeleted) children. */
  total: number;
  available: number;
  /** Children in error (a create) or error_deleting (a delete). */
  failed: number;
}

/** The statuses an admin may reset a group snapshot to (Cinder's reset_status, microversion 3.19). */
export const resettableGroupSnapshotStatuses = ['creating', 'available', 'deleting', 'error', 'error_deleting'] as const;
export type ResettableGroupSnapshotStatus = (typeof resettableGroupSnapshotStatuses)[number];

export interface GroupSnapshotContext {
  reason: string | null;
  /** How many children the create asked for: the parent is available once that many are. */
  members: number;
}

export type GroupSnapshotEvent =
  /** `members`: the volumes of the group, one child each. */
  | { type: 'group_snapshot.create'; members: number }
  | { type: 'children.changed'; children: ChildCounts }
  | { type: 'timer.expired'; phase: string }
  /** `children`: the live children the delete has to remove. */
  | { type: 'group_snapshot.delete'; children: number }
  | { type: 'reset_status'; status: string };

export type GroupSnapshotEventType = GroupSnapshotEvent['type'];

export const groupSnapshotMachine = setup({
  types: { context: {} as GroupSnapshotContext, events: {} as GroupSnapshotEvent },
  actions: {
    // Deliberately empty: the engine reads these from `transition()`'s action list.
    effect: (_args, _params: { kind: GroupSnapshotEffectKind }) => {},
    fail: assign((_args, params: { reason: string }) => ({ reason: params.reason })),
    clearReason: assign({ reason: null }),
    recordMembers: assign(({ event }) => ({ members: event.type === 'group_snapshot.create' ? event.members : 0 })),
  },
  guards: {
    noMembers: ({ event }) => event.type === 'group_snapshot.create' && event.members === 0,
    noChildren: ({ event }) => event.type === 'group_snapshot.delete' && event.children === 0,
    anyChildFailed: ({ event }) => event.type === 'children.changed' && event.children.failed > 0,
    allChildrenAvailable: ({ context, event }) => event.type === 'children.changed' && event.children.available === context.members && event.children.total === context.members,
    allChildrenGone: ({ event }) => event.type === 'children.changed' && event.children.total === 0,
    anyChildAvailable: ({ event }) => event.type === 'children.changed' && event.children.available > 0,
    forPhase: ({ event }, params: { phase: string }) => event.type === 'timer.expired' && event.phase === params.phase,
    resetTo: ({ event }, params: { status: ResettableGroupSnapshotStatus }) => event.type === 'reset_status' && event.status === params.status,
  },
}).createMachine({
  id: 'groupSnapshot',
  initial: 'new',
  context: { reason: null, members: 0 },
  states: {
    new: {
      meta: { status: 'creating', description: 'Not yet persisted: the create request is its first event.' },
      on: {
        'group_snapshot.create': [
          { guard: 'noMembers', target: 'available', actions: 'recordMembers' },
          { target: 'creating', actions: ['recordMembers', { type: 'effect', params: { kind: 'createMembers' } }] },
        ],
      },
    },
    creating: {
      meta: { status: 'creating', deadline: 'create', description: 'One snapshot per member volume, each on its own machine.' },
      entry: 'clearReason',
      on: {
        'children.changed': [
          {
            guard: 'anyChildFailed',
            target: 'error',
            actions: [{ type: 'fail', params: { reason: 'member_snapshot_failed' } }, { type: 'effect', params: { kind: 'failMembers' } }],
          },
          { guard: 'allChildrenAvailable', target: 'available' },
        ],
        'timer.expired': {
          guard: { type: 'forPhase', params: { phase: 'creating' } },
          target: 'error',
          actions: [{ type: 'fail', params: { reason: 'member_snapshots_timeout' } }, { type: 'effect', params: { kind: 'failMembers' } }],
        },
        ...adminReset(),
      },
    },
    available: {
      meta: { status: 'available' },
      entry: 'clearReason',
      on: {
        'group_snapshot.delete': deleteRequest(),
        ...adminReset(),
      },
    },
    deleting: {
      meta: { status: 'deleting', deadline: 'delete', description: 'Every member snapshot deleted by its own machine.' },
      entry: 'clearReason',
      on: {
        'children.changed': [
          { guard: 'allChildrenGone', target: 'deleted' },
          { guard: 'anyChildFailed', target: 'error_deleting', actions: { type: 'fail', params: { reason: 'member_snapshot_delete_failed' } } },
        ],
        'timer.expired': {
          guard: { type: 'forPhase', params: { phase: 'deleting' } },
          target: 'error_deleting',
          actions: { type: 'fail', params: { reason: 'member_snapshots_delete_timeout' } },
        },
        ...adminReset(),
      },
    },
    error: {
      meta: { status: 'error' },
      on: {
        // A child that finished after the parent failed is failed too (Cinder fails them all).
        'children.changed': { guard: 'anyChildAvailable', actions: { type: 'effect', params: { kind: 'failMembers' } } },
        'group_snapshot.delete': deleteRequest(),
        ...adminReset(),
      },
    },
    error_deleting: {
      meta: { status: 'error_deleting' },
      on: adminReset(),
    },
    deleted: { type: 'final', meta: { status: 'deleted' } },
  },
});

/** A delete: nothing to wait for without children; otherwise each child is asked to delete. */
function deleteRequest() {
  return [
    { guard: 'noChildren' as const, target: '#groupSnapshot.deleted' },
    { target: '#groupSnapshot.deleting', actions: { type: 'effect' as const, params: { kind: 'deleteMembers' as const } } },
  ];
}

/** Cinder's group snapshot reset-status: the status is set, no work is asked for. */
function adminReset() {
  return {
    reset_status: resettableGroupSnapshotStatuses.map((status) => ({
      guard: { type: 'resetTo' as const, params: { status } },
      target: `#groupSnapshot.${status}`,
      ...(status === 'error' || status === 'error_deleting' ? { actions: { type: 'fail' as const, params: { reason: 'reset_by_admin' } } } : {}),
    })),
  };
}
