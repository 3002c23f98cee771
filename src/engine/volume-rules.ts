// What a volume's step needs from rows its machine cannot see, and how a refusal reads. Kept
// beside the machine's statuses: which snapshot statuses mean "an operation is in flight" is read
// off the snapshot machine (the statuses of its active phases), not listed here.
import { activePhases, statusOfPhase } from '../../machines/derive.js';
import type { VolumeEvent } from '../../machines/volume.js';
import type { VolumeCondition, VolumeConditionFailure } from './store/rows.js';

/** Snapshot statuses in which a create or delete of the snapshot is under way. */
export const snapshotBusyStatuses: readonly string[] = [...new Set(activePhases.map(statusOfPhase))];

/** Snapshot statuses a cascade delete deletes from (Cinder's volume_has_undeletable_snapshots_filter). */
export const cascadeDeletableSnapshotStatuses: readonly string[] = ['available', 'error'];

/**
 * Cinder refuses to delete a volume that has snapshots (force or not, without cascade; with
 * cascade, while one of them is not available or error); a volume being copied into another is
 * kept until the copy is done (its files are being read); and a
 * detach while a snapshot of the volume is being created or deleted is refused here, since the
 * assisted part runs in the instance that holds the volume open, and the RemoteFS chain would
 * change under a detached disk. Refusing (rather than waiting) keeps the API's answer immediate
 * and lets Nova's own retry or an operator decide; the refusal names the snapshots.
 */
export function conditionsFor(event: VolumeEvent): VolumeCondition[] {
  switch (event.type) {
    case 'volume.delete':
      return [
        event.cascade ? { kind: 'only_snapshots_in', statuses: cascadeDeletableSnapshotStatuses } : { kind: 'no_snapshots' },
        { kind: 'no_clones_in_progress' },
      ];
    case 'os-force_delete':
      return [{ kind: 'no_snapshots' }, { kind: 'no_clones_in_progress' }];
    case 'os-begin_detaching':
    case 'os-detach':
      return [{ kind: 'no_snapshots_in', statuses: snapshotBusyStatuses }];
    default:
      return [];
  }
}

export function conditionRefusal(f: VolumeConditionFailure): string {
  const listed = f.snapshots.map((s) => `${s.id} (${s.status})`).join(', ');
  switch (f.kind) {
    case 'no_snapshots':
      return `volume still has ${f.snapshots.length} dependent snapshots: ${listed}`;
    case 'only_snapshots_in':
      return `snapshots that cannot be deleted with the volume: ${listed}`;
    case 'no_clones_in_progress':
      return `volumes are being created from it: ${listed}`;
    default:
      return `snapshot operation in progress on the volume: ${listed}`;
  }
}

/** Why the machine refused an event, in words an operator reading the history understands. */
export function volumeRejectionReason(status: string, phase: string, event: { type: string; phase?: string }): string {
  if (status === 'deleted') return 'volume is deleted';
  if (event.type === 'storage.done' || event.type === 'storage.failed') return `stale ${event.type} for phase ${event.phase}; volume is in ${phase}`;
  return `${event.type} not allowed in phase ${phase} (status ${status})`;
}
