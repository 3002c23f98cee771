/**
 * What holds an instance's disks open, and does compute's live part on them. Two modes:
 *
 * - `file` (FileHypervisor): no process holds the files; the "guest" is the agent's record of the
 *   active file, and libvirt's block jobs are done offline with qemu-img (live.ts). For hosts
 *   without qemu-system.
 * - `qemu` (QemuHypervisor, qemu-hypervisor.ts): a real QEMU per instance has the files open and
 *   write-locked, and the live part is QMP, as libvirt does it.
 *
 * The agent (agent.ts) keeps the bookkeeping, the per-volume lock, the outcome memory and the
 * callbacks; a hypervisor only touches the disks.
 */
import { qemuSystemAvailable } from '../../qemu/qemu-machine.js';
import type { BlockJob } from './live.js';
import { createLive, deleteLive } from './live.js';
import type { VolumeAttachmentRecord } from './types.js';

export type AgentMode = 'file' | 'qemu';

/** COMPUTE_AGENT_MODE: `auto` is qemu wherever qemu-system-x86_64 runs. */
export async function resolveAgentMode(setting: AgentMode | 'auto'): Promise<AgentMode> {
  if (setting !== 'auto') return setting;
  return (await qemuSystemAvailable()) ? 'qemu' : 'file';
}

export interface Attached {
  instanceId: string;
  record: VolumeAttachmentRecord;
}

export interface Hypervisor {
  readonly mode: AgentMode;
  /** At agent start: the attachments the state file remembers, to be found (or reopened). */
  resume(attached: Attached[]): Promise<void>;
  /** The instance opens the volume's active file (an attach). */
  plug(instanceId: string, record: VolumeAttachmentRecord): Promise<void>;
  /** The instance closes the volume (a detach). */
  unplug(instanceId: string, record: VolumeAttachmentRecord): Promise<void>;
  /** The file the instance writes to, relative to the share. */
  activeFile(instanceId: string, record: VolumeAttachmentRecord): Promise<string>;
  /** Switch the instance to `newFile` (already created on top of the active file); returns the new active file. */
  snapshotCreate(instanceId: string, record: VolumeAttachmentRecord, newFile: string, options?: { pauseGuest?: boolean }): Promise<string>;
  /** Resumes the instance if this agent paused it for a snapshot; true when it did so now. */
  resumeGuest(instanceId: string): Promise<boolean>;
  /** Run the merge; returns the active file afterwards. */
  snapshotDelete(instanceId: string, record: VolumeAttachmentRecord, plan: BlockJob): Promise<string>;
  /** Agent shutdown. */
  close(): Promise<void>;
  /** Lets go of the instances without stopping them, as a crash of the agent's process would. */
  abandon(): Promise<void>;
}

export class FileHypervisor implements Hypervisor {
  readonly mode = 'file' as const;

  constructor(private readonly shareDir: string) {}

  async resume(): Promise<void> {}

  async plug(): Promise<void> {}

  async unplug(): Promise<void> {}

  async activeFile(_instanceId: string, record: VolumeAttachmentRecord): Promise<string> {
    return record.activeFile;
  }

  snapshotCreate(_instanceId: string, record: VolumeAttachmentRecord, newFile: string): Promise<string> {
    return createLive({ shareDir: this.shareDir, activeFile: record.activeFile, newFile });
  }

  async snapshotDelete(_instanceId: string, record: VolumeAttachmentRecord, plan: BlockJob): Promise<string> {
    await deleteLive({ shareDir: this.shareDir, activeFile: record.activeFile, plan });
    return record.activeFile;
  }

  // No process, no guest to pause: a pause request is a no-op here.
  async resumeGuest(): Promise<boolean> {
    return false;
  }

  async close(): Promise<void> {}

  async abandon(): Promise<void> {}
}
