// What the storage side asks of compute (Nova's os-assisted-volume-snapshots API). Acceptance only
// means compute started; the outcome arrives later as an os-update_snapshot_status callback.
// A thrown error means compute refused or could not be reached, and puts the snapshot in error.
export interface ComputeClient {
  requestCreate(volumeId: string, createInfo: Record<string, unknown>): Promise<void>;
  requestDelete(snapshotId: string, deleteInfo: Record<string, unknown>): Promise<void>;
  /**
   * Present only where compute is the compute agent (Nova has no such thing): it can pause the
   * guest around a create's overlay switch (create_info `pause_guest`) and resume it on request.
   * Without it nothing asks compute to pause, since a real Nova refuses unknown create_info keys.
   */
  readonly guest?: GuestControl;
}

/** The compute agent's guest pause extension, as the storage side uses it. */
export interface GuestControl {
  /**
   * Resumes the guest holding `volumeId` if the agent paused it for a snapshot (a guest paused by
   * anyone else is left alone). Idempotent: resolving means the guest is not paused by the agent.
   */
  resume(volumeId: string, snapshotId: string): Promise<GuestResumeResult>;
}

export interface GuestResumeResult {
  /** The agent found the guest paused by itself and resumed it now. */
  resumed: boolean;
  instanceId: string | null;
}

/** create_info's extension key for the agent: pause the guest around the overlay switch. */
export const PAUSE_GUEST_CREATE_INFO_KEY = 'pause_guest';
