// The lifecycle of one volume, from the create request to `deleted`, with Cinder's statuses.
//
// Pure like the snapshot machine: creating and deleting the volume on the share are `effect`
// actions that the engine turns into outbox rows after the state is committed; the driver's
// answer comes back as `storage.done` / `storage.failed`. The attach actions Nova sends (the
// legacy flow: os-reserve, os-initialize_connection, os-attach, os-begin_detaching, os-detach)
// are events named after the action, so the history reads as the API was called.
//
// Cinder's naming, followed as its volume API has it: os-reserve moves `available` to
// `attaching` (cinder/volume/api.py reserve_volume), os-unreserve moves `attaching` back (to
// `in-use` while attachments remain), os-begin_detaching moves `in-use` to `detaching` and
// os-roll_detaching back. `reserved` is the status of the newer attachments API
// (attachment_create, microversion 3.27), which this service does not serve; the state exists so
// an admin's os-reset_status to `reserved` (Cinder accepts it) lands in a state the machine knows,
// and os-attach or os-unreserve leave it as they leave `attaching`.
//
// What the machine cannot see (the volume's snapshots and attachments, other rows) is judged by
// the engine in the transaction that stores the step: a delete is refused while snapshots exist,
// a detach while one of them is being created or deleted. The events carry what the engine
// counted (how many attachments a detach leaves).
//
// A volume created from a snapshot or another volume goes through the same `creating` phase: the
// create event names its source, and the driver's createVolume copies the source's data (the
// source is held available by the engine while the copy runs). Extend is a phase of its own
// (`extending`, the driver's resize), failing to Cinder's `error_extending`. A transfer offer
// parks the volume in `awaiting-transfer` until it is accepted (the engine moves the volume to
// the new project in the same commit) or withdrawn.
import { assign, setup } from 'xstate';

/** Side effects the volume machine can ask for; each is one driver method. */
export const volumeEffectKinds = ['createVolume', 'deleteVolume', 'extendVolume'] as const;
export type VolumeEffectKind = (typeof volumeEffectKinds)[number];

export const attachStatuses = ['attached', 'detached'] as const;
export type AttachStatus = (typeof attachStatuses)[number];

/** The statuses an admin may reset a volume to: the states that ask for no work. */
export const resettableVolumeStatuses = ['available', 'reserved', 'attaching', 'in-use', 'detaching', 'error', 'error_deleting', 'maintenance', 'creating'] as const;
export type ResettableVolumeStatus = (typeof resettableVolumeStatuses)[number];

/**
 * The state a reset lands in: its own name, except `creating`, whose state asks the driver to
 * create the file; an admin's reset to `creating` rests in `reset_creating` instead, which asks
 * for nothing (Cinder's reset only writes the column, it never restarts a create).
 */
const resetTarget = (status: ResettableVolumeStatus) => (status === 'creating' ? 'reset_creating' : status);

export interface VolumeContext {
  /** Cinder's attach_status: whether any live attachment exists. */
  attachStatus: AttachStatus;
  /** Why the volume is in error / error_deleting; null otherwise. */
  reason: string | null;
}

/** What a new volume's data is copied from (Cinder's snapshot_id / source_volid). */
export interface VolumeSource {
  kind: 'snapshot' | 'volume';
  id: string;
}

export type VolumeEvent =
  | { type: 'volume.create'; source?: VolumeSource }
  | { type: 'storage.done'; phase: string }
  | { type: 'storage.failed'; phase: string; reason: string }
  | { type: 'os-reserve' }
  | { type: 'os-unreserve' }
  | { type: 'os-attach' }
  | { type: 'os-begin_detaching' }
  | { type: 'os-roll_detaching' }
  /** `remaining`: the live attachments the volume keeps once this detach is done. */
  | { type: 'os-detach'; remaining: number }
  /** `cascade`: the volume's snapshots are deleted first (Cinder's delete with cascade=True). */
  | { type: 'volume.delete'; cascade?: boolean }
  /** `newSize` in GiB; the engine records it for the driver (volume admin metadata extend_new_size). */
  | { type: 'volume.extend'; newSize: number }
  | { type: 'transfer.create' }
  | { type: 'transfer.accept' }
  | { type: 'transfer.delete' }
  /** Either field may be absent (Cinder resets status and attach_status independently). */
  | { type: 'os-reset_status'; status?: string; attachStatus?: AttachStatus }
  | { type: 'os-force_delete' }
  /**
   * A retype without migration: the type changes on the same backend and nothing moves, so the
   * volume stays where it is (the engine writes the new type with the step). Cinder's
   * `retyping` status lasts only while its scheduler and manager run; here the change is one
   * transaction, so there is no state in which a volume is seen retyping.
   */
  | { type: 'os-retype' };

export type VolumeEventType = VolumeEvent['type'];

export const volumeMachine = setup({
  types: {
    context: {} as VolumeContext,
    events: {} as VolumeEvent,
  },
  actions: {
    // Deliberately empty: the engine reads these from `transition()`'s action list and writes
    // them to the outbox in the same transaction as the new state.
    effect: (_args, _params: { kind: VolumeEffectKind }) => {},
    markAttached: assign({ attachStatus: 'attached' as AttachStatus }),
    markDetachedIfLast: assign(({ context, event }) => ({
      attachStatus: event.type === 'os-detach' && event.remaining === 0 ? ('detached' as const) : context.attachStatus,
    })),
    resetAttachStatus: assign(({ context, event }) => ({
      attachStatus: event.type === 'os-reset_status' && event.attachStatus ? event.attachStatus : context.attachStatus,
    })),
    fail: assign(({ event }, params: { reason: string }) => {
      const detail = 'reason' in event && event.reason ? `: ${event.reason}` : '';
      return { reason: `${params.reason}${detail}` };
    }),
    clearReason: assign({ reason: null }),
    // Deliberately empty, as `effect`: the engine writes the new type in the step's statement.
    // A transition with neither target nor action would be refused by `can()`.
    retype: () => {},
  },
  guards: {
    forPhase: ({ event }, params: { phase: string }) => 'phase' in event && event.phase === params.phase,
    attachmentsRemain: ({ context, event }) => context.attachStatus === 'attached' && event.type === 'os-detach' && event.remaining > 0,
    hasAttachments: ({ context }) => context.attachStatus === 'attached',
    detached: ({ context }) => context.attachStatus === 'detached',
    resetTo: ({ event }, params: { status: ResettableVolumeStatus }) => event.type === 'os-reset_status' && event.status === params.status,
    /** A reset of attach_status alone: the volume stays where it is. */
    resetsAttachStatusOnly: ({ event }) => event.type === 'os-reset_status' && event.status === undefined && event.attachStatus !== undefined,
  },
}).createMachine({
  id: 'volume',
  initial: 'new',
  context: { attachStatus: 'detached', reason: null },
  states: {
    new: {
      meta: { status: 'creating', description: 'Not yet persisted: the create request is its first event.' },
      on: { 'volume.create': { target: 'creating' } },
    },
    creating: {
      meta: { status: 'creating', effect: 'createVolume' },
      entry: ['clearReason', { type: 'effect', params: { kind: 'createVolume' } }],
      on: {
        ...driverResult('creating', '#volume.available', '#volume.error', 'driver_error'),
        ...adminActions(),
      },
    },
    available: {
      meta: { status: 'available' },
      entry: 'clearReason',
      on: {
        'os-reserve': { target: 'attaching' },
        'os-attach': { target: 'in-use', actions: 'markAttached' },
        'volume.delete': { target: 'deleting' },
        'os-retype': { actions: 'retype' },
        // nfs.py extends only detached volumes (compute would not tell the guest of the new size).
        'volume.extend': { guard: 'detached', target: 'extending' },
        'transfer.create': { target: 'awaiting-transfer' },
        ...adminActions(),
      },
    },
    extending: {
      meta: { status: 'extending', effect: 'extendVolume' },
      entry: ['clearReason', { type: 'effect', params: { kind: 'extendVolume' } }],
      on: {
        ...driverResult('extending', '#volume.available', '#volume.error_extending', 'driver_error'),
        ...adminActions(),
      },
    },
    'awaiting-transfer': {
      meta: { status: 'awaiting-transfer', description: 'Offered to another project; the transfer is accepted or withdrawn.' },
      entry: 'clearReason',
      on: {
        'transfer.accept': { target: 'available' },
        'transfer.delete': { target: 'available' },
        ...adminActions(),
      },
    },
    reserved: {
      meta: { status: 'reserved' },
      entry: 'clearReason',
      on: { ...attachOrUnreserve(), ...adminActions() },
    },
    attaching: {
      meta: { status: 'attaching' },
      entry: 'clearReason',
      on: { ...attachOrUnreserve(), ...adminActions() },
    },
    'in-use': {
      meta: { status: 'in-use' },
      entry: 'clearReason',
      on: {
        'os-begin_detaching': { target: 'detaching' },
        'os-detach': detach(),
        'os-retype': { actions: 'retype' },
        ...adminActions(),
      },
    },
    detaching: {
      meta: { status: 'detaching' },
      entry: 'clearReason',
      on: {
        'os-roll_detaching': { target: 'in-use' },
        'os-detach': detach(),
        ...adminActions(),
      },
    },
    deleting: {
      meta: { status: 'deleting', effect: 'deleteVolume' },
      entry: ['clearReason', { type: 'effect', params: { kind: 'deleteVolume' } }],
      on: {
        ...driverResult('deleting', '#volume.deleted', '#volume.error_deleting', 'driver_error'),
        ...adminActions(),
      },
    },
    error: {
      meta: { status: 'error' },
      on: { 'volume.delete': { target: 'deleting' }, ...adminActions() },
    },
    error_deleting: {
      meta: { status: 'error_deleting' },
      on: adminActions(),
    },
    // Cinder's maintenance status: reachable only by an admin's os-reset_status; the volume
    // refuses the owner's changes (its metadata included) until an admin resets it again.
    maintenance: {
      meta: { status: 'maintenance', locked: true, description: 'Set by an admin (os-reset_status); only admin actions leave it.' },
      on: adminActions(),
    },
    reset_creating: {
      meta: { status: 'creating', description: 'Reset to creating by an admin: no driver work is asked; only admin actions leave it.' },
      on: adminActions(),
    },
    error_extending: {
      meta: { status: 'error_extending' },
      // Cinder deletes from error_extending; the size stays what it was before the extend.
      on: { 'volume.delete': { target: 'deleting' }, ...adminActions() },
    },
    deleted: {
      type: 'final',
      meta: { status: 'deleted' },
    },
  },
});

// The builders below only shape configuration data, so the machine stays drawable and
// traversable; they exist because several states share the same transitions.

/** The driver's answer, accepted only in the phase that asked for it. */
function driverResult(phase: string, onDone: string, onFail: string, reason: string) {
  return {
    'storage.done': { guard: { type: 'forPhase' as const, params: { phase } }, target: onDone },
    'storage.failed': {
      guard: { type: 'forPhase' as const, params: { phase } },
      target: onFail,
      actions: { type: 'fail' as const, params: { reason } },
    },
  };
}

/** Leaving a reservation: attached (os-attach), or given up (back to where attachments say). */
function attachOrUnreserve() {
  return {
    'os-attach': { target: '#volume.in-use', actions: 'markAttached' as const },
    'os-unreserve': [{ guard: 'hasAttachments' as const, target: '#volume.in-use' }, { target: '#volume.available' }],
  };
}

/** Closing attachments (only of a volume that has some): it stays in use while others remain. */
function detach() {
  return [
    { guard: 'attachmentsRemain' as const, target: '#volume.in-use' },
    { guard: 'hasAttachments' as const, target: '#volume.available', actions: 'markDetachedIfLast' as const },
  ];
}

/**
 * Cinder's admin actions, wherever a persisted volume is (not in `new`, not in `deleted`):
 * os-reset_status to a state that asks for no work (with attach_status, or attach_status alone),
 * and os-force_delete, which deletes from any status.
 */
function adminActions() {
  return {
    'os-reset_status': [
      ...resettableVolumeStatuses.map((status) => ({
        guard: { type: 'resetTo' as const, params: { status } },
        target: `#volume.${resetTarget(status)}`,
        actions: [
          'resetAttachStatus' as const,
          ...(status === 'error' || status === 'error_deleting' ? [{ type: 'fail' as const, params: { reason: 'reset_by_admin' } }] : []),
        ],
      })),
      { guard: 'resetsAttachStatusOnly' as const, actions: 'resetAttachStatus' as const },
    ],
    'os-force_delete': { target: '#volume.deleting' },
  };
}
