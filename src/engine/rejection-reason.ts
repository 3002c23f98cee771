// Why the machine refused an event, in words an operator reading the history understands.
import type { SnapshotEvent } from '../../machines/snapshot.js';

export function rejectionReason(status: string, phase: string, event: SnapshotEvent, deletedStatus: string): string {
  if (status === deletedStatus) return `snapshot is deleted`;
  switch (event.type) {
    case 'storage.done':
    case 'storage.failed':
    case 'compute.failed':
    case 'timer.expired':
    case 'storage.reconciled':
      return `stale ${event.type} for phase ${event.phase}; snapshot is in ${phase}`;
    case 'compute.status':
      return `compute callback (status ${event.status}${event.computeStatus ? `, compute_snapshot_status ${event.computeStatus}` : ''}) not accepted in phase ${phase}`;
    default:
      return `${event.type} not allowed in phase ${phase} (status ${status})`;
  }
}
