// What a volume's step needs from rows its machine cannot see, and how a refusal reads. Kept
// beside the machine's statuses: which snapshot statuses mean "an operation is in flight" is read
// off the snapshot machine (the statuses of its active phases), not listed here.
import { activePhases, statusOfPhase } from '../../machines/derive.js';
import type { VolumeEventType } from '../../machines/volume.js';
import type { VolumeCondition, VolumeConditionFailure } from './store/rows.js';

/** Snapshot statuses in which a create or delete of the snapshot is under way. */
export const snapshotBusyStatuses: readonly string[] = [...new Set(activePhases.map(statusOfPhase))];

/**
 * Cinder refuses to delete a volume that has snapshots (force or not, without cascade); and a
 * detach while a snapshot of the volume is being created or deleted is refused here, since the
 * assisted part runs in the instance that holds the volume open, and the RemoteFS chain would
 * change under a detached disk. Refusing (rather than waiting) keeps the API's answer immediate
 * and lets Nova's own retry or an operator decide; the refusal names the snapshots.
 */
export function conditionsFor(event: VolumeEventType): VolumeCondition[] {
  switch (event) {
    case 'volume.delete':
    case 'os-force_delete':
      return [{ kind: 'no_snapshots' }];
    case 'os-begin_detaching':
    case 'os-detach':
      return [{ kind: 'no_snapshots_in', statuses: snapshotBusyStatuses }];
    default:
      return [];
  }
}

export function conditionRefusal(f: VolumeConditionFailure): string {
  const listed = f.snapshots.map((s) => `${s.id} (${s.status})`).join(', ');
  return f.kind === 'no_snapshots'
    ? `volume still has ${f.snapshots.length} dependent snapshots: ${listed}`
    : `snapshot operation in progress on the volume: ${listed}`;
}

/** Why the machine refused an event, in words an operator reading the history understands. */
export function volumeRejectionReason(status: string, phase: string, event: { type: string; phase?: string }): string {
  if (status === 'deleted') return 'volume is deleted';
  if (event.type === 'storage.done' || event.type === 'storage.failed') return `stale ${event.type} for phase ${event.phase}; volume is in ${phase}`;
  return `${event.type} not allowed in phase ${phase} (status ${status})`;
}
