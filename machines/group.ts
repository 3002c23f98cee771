// The lifecycle of one generic volume group, with Cinder's group statuses.
//
// A generic group asks no storage work of its own (Cinder's generic implementation only records
// it), so a plain create lands in `available`. A group created from a source (another group, or
// a group snapshot) stays `creating` while its member volumes are being made, and `deleting`
// lasts while its member volumes are deleted: the members are volumes, each driven by its own
// volume machine, and the engine counts them (`members.changed`) after each of their steps.
//
// What the machine cannot see (other rows: the member volumes and their statuses) arrives as
// counts in the events, as the volume machine's os-detach carries `remaining`.
import { assign, setup } from 'xstate';

/** The member volumes of a group, by what their machines say. */
export interface MemberCounts {
  /** Live (undeleted) member volumes. */
  total: number;
  available: number;
  /** Members in error or error_deleting. */
  failed: number;
}

/** The statuses an admin may reset a group to (Cinder's os-reset_status, microversion 3.20). */
export const resettableGroupStatuses = ['creating', 'available', 'updating', 'deleting', 'error', 'error_deleting'] as const;
export type ResettableGroupStatus = (typeof resettableGroupStatuses)[number];

export interface GroupContext {
  reason: string | null;
  /** How many member volumes a create from a source makes: the group is available once that many are. */
  members: number;
}

export type GroupEvent =
  | { type: 'group.create' }
  | { type: 'group.create_from_source'; members: number }
  | { type: 'members.changed'; members: MemberCounts }
  /** Name, description, or members added / removed: written in the same commit. */
  | { type: 'group.update' }
  /** `members`: the live volumes the group still holds (each gets a volume.delete). */
  | { type: 'group.delete'; members: number }
  | { type: 'reset_status'; status: string };

export type GroupEventType = GroupEvent['type'];

export const groupMachine = setup({
  types: { context: {} as GroupContext, events: {} as GroupEvent },
  actions: {
    fail: assign((_args, params: { reason: string }) => ({ reason: params.reason })),
    clearReason: assign({ reason: null }),
    recordMembers: assign(({ event }) => ({ members: event.type === 'group.create_from_source' ? event.members : 0 })),
  },
  guards: {
    noMembers: ({ event }) => (event.type === 'group.delete' || event.type === 'group.create_from_source') && event.members === 0,
    anyMemberFailed: ({ event }) => event.type === 'members.changed' && event.members.failed > 0,
    allMembersAvailable: ({ context, event }) => event.type === 'members.changed' && event.members.available === context.members && event.members.total === context.members,
    allMembersGone: ({ event }) => event.type === 'members.changed' && event.members.total === 0,
    resetTo: ({ event }, params: { status: ResettableGroupStatus }) => event.type === 'reset_status' && event.status === params.status,
  },
}).createMachine({
  id: 'group',
  initial: 'new',
  context: { reason: null, members: 0 },
  states: {
    new: {
      meta: { status: 'creating', description: 'Not yet persisted: the create request is its first event.' },
      on: {
        'group.create': { target: 'available' },
        'group.create_from_source': [
          { guard: 'noMembers', target: 'available', actions: 'recordMembers' },
          { target: 'creating', actions: 'recordMembers' },
        ],
      },
    },
    creating: {
      meta: { status: 'creating', description: 'Waiting for the member volumes made from the source.' },
      entry: 'clearReason',
      on: {
        'members.changed': [
          { guard: 'anyMemberFailed', target: 'error', actions: { type: 'fail', params: { reason: 'member_volume_failed' } } },
          { guard: 'allMembersAvailable', target: 'available' },
        ],
        ...adminReset(),
      },
    },
    available: {
      meta: { status: 'available' },
      entry: 'clearReason',
      on: {
        'group.update': { target: 'available', reenter: true },
        'group.delete': [{ guard: 'noMembers', target: 'deleted' }, { target: 'deleting' }],
        ...adminReset(),
      },
    },
    updating: {
      meta: { status: 'updating', description: 'Only reached by an admin reset: an update commits with its membership changes.' },
      entry: 'clearReason',
      on: adminReset(),
    },
    deleting: {
      meta: { status: 'deleting', description: 'Waiting for the member volumes to be deleted.' },
      entry: 'clearReason',
      on: {
        'members.changed': [
          { guard: 'allMembersGone', target: 'deleted' },
          { guard: 'anyMemberFailed', target: 'error', actions: { type: 'fail', params: { reason: 'member_volume_delete_failed' } } },
        ],
        ...adminReset(),
      },
    },
    error: {
      meta: { status: 'error' },
      on: {
        'group.delete': [{ guard: 'noMembers', target: 'deleted' }, { target: 'deleting' }],
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

/** Cinder's group reset-status: to any state that asks for no work of its own. */
function adminReset() {
  return {
    reset_status: resettableGroupStatuses.map((status) => ({
      guard: { type: 'resetTo' as const, params: { status } },
      target: `#group.${status}`,
      ...(status === 'error' || status === 'error_deleting' ? { actions: { type: 'fail' as const, params: { reason: 'reset_by_admin' } } } : {}),
    })),
  };
}
