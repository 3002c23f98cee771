// Shapes shared by the agent's modules; kept apart so the HTTP layer, the live part and the
// storage client can be tested without each other.
import type { QemuMachine } from '../../qemu/qemu-machine.js';

export type OperationKind = 'create' | 'delete';

/** One asynchronous snapshot operation, as the live part and the fault hooks see it. */
export interface SnapshotOperation {
  kind: OperationKind;
  snapshotId: string;
  volumeId: string;
  instanceId: string;
}

/**
 * Fault injection for tests. Options, not environment: a test states what it breaks next to the
 * agent it starts, and nothing leaks into a production start.
 */
export interface AgentFaults {
  /** Awaited before the live part starts, so a test can hold the operation where it wants it. */
  beforeLivePart?: (op: SnapshotOperation) => Promise<void>;
  /** The live part fails (as if libvirt refused), which reports error / error_deleting. */
  failLivePart?: boolean | ((op: SnapshotOperation) => boolean);
  /** os-assisted-volume-snapshots requests are refused with 400 before anything happens. */
  refuseRequests?: boolean;
  /** The first N callback attempts are lost on the way (never sent); the retry delivers them. */
  dropCallbacks?: number;
  /** The live part runs but the storage service is never told. */
  neverCallBack?: boolean;
  /**
   * QEMU mode with pauseGuest: awaited at each step between `stop` and `cont` (after-stop,
   * after-overlay-added, after-switch); a rejection is a failure at that step.
   */
  whilePaused?: (step: 'after-stop' | 'after-overlay-added' | 'after-switch') => Promise<void>;
  /** QEMU mode: the block jobs' rate limit in bytes/s (QMP `speed`), so a test can act while one runs. */
  blockJobSpeed?: number;
  /** QEMU mode: awaited once a block job runs (guest writes, a cancel, a killed QEMU). */
  duringBlockJob?: (job: { jobId: string; machine: QemuMachine; topNode: string }) => Promise<void>;
}

export interface CallbackRetryOptions {
  /** Attempts in total before giving up; default 8. */
  attempts?: number;
  /** First backoff delay, doubled per retry up to maxDelayMs; default 500 ms / 30 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout; default 30 s. */
  timeoutMs?: number;
  /** Injected so tests drive the backoff without real waiting. */
  sleep?: (ms: number) => Promise<void>;
}

/** What the agent knows about a volume it attached: the file the "VM" has open. */
export interface VolumeAttachmentRecord {
  volumeId: string;
  device: string;
  /** File name of the active image, relative to the share (what connection_info data.name says). */
  activeFile: string;
  /** Format of the volume's base as the storage side reported it (data.format). */
  format: string;
  connectionInfo: Record<string, unknown>;
}

/** How a finished operation ended, remembered so a repeated request is answered, not redone. */
export interface OperationOutcome {
  ok: boolean;
  /** For a create: the file that became active. */
  newFile?: string;
  error?: string;
}
