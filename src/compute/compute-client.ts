// What the storage side asks of compute (Nova's os-assisted-volume-snapshots API). Acceptance only
// means compute started; the outcome arrives later as an os-update_snapshot_status callback.
// A thrown error means compute refused or could not be reached, and puts the snapshot in error.
export interface ComputeClient {
  requestCreate(volumeId: string, createInfo: Record<string, unknown>): Promise<void>;
  requestDelete(snapshotId: string, deleteInfo: Record<string, unknown>): Promise<void>;
}
