// The body of the os-update_snapshot_status callback, in the two dialects the storage side
// understands. Legacy mode is byte-for-byte what an unmodified Nova sends, so the storage service
// can be tested against it: nova/volume/cinder.py update_snapshot_status always adds
// progress "90%", including to the error statuses.
import type { OperationKind } from './types.js';

export type SnapshotStatusUpdate = {
  status: 'creating' | 'deleting' | 'error' | 'error_deleting';
  progress?: string;
  compute_snapshot_status?: 'complete' | 'error';
  compute_progress?: string;
};

export function statusUpdate(kind: OperationKind, ok: boolean, legacy: boolean): SnapshotStatusUpdate {
  const status = ok ? (kind === 'create' ? 'creating' : 'deleting') : kind === 'create' ? 'error' : 'error_deleting';
  if (legacy) return { status, progress: '90%' };
  return ok
    ? { status, progress: '90%', compute_snapshot_status: 'complete', compute_progress: '100%' }
    : { status, compute_snapshot_status: 'error' };
}
