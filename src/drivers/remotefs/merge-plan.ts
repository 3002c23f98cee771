// Which files an online (assisted) snapshot delete merges, and how. Pure: it works on .info and
// the chain as read at begin, so the same plan is recorded for compute (delete_info) and for the
// complete phase, which can no longer derive it once compute has rewritten the chain.
import type { DeleteInfo as NovaDeleteInfo } from '../../contracts/nova.js';
import { idsOf, type SnapInfo } from './info-store.js';

/** One link of a chain, top first; `backing` is a file name in the share. */
export interface ChainLink {
  name: string;
  format: string;
  virtualSize: number;
  backing: string | null;
}

/** Nova's delete_info as this driver sends it: always qcow2, both files named (null where unused). */
export type DeleteInfo = Required<NovaDeleteInfo> & { type: 'qcow2' };

/** Which file compute merges into which, and what the complete phase then records and removes. */
export interface MergePlan {
  snapshotId: string;
  /** pull: compute blockRebases the base into the active file; commit: compute blockCommits. */
  mode: 'pull' | 'commit';
  activeFile: string;
  snapshotFile: string;
  baseFile: string;
  /** The snapshot whose file is baseFile; after a pull it maps to snapshotFile instead. */
  baseId: string | null;
  /** What the snapshot file is backed by once compute has merged. */
  newBackingOfSurvivor: string | null;
  /** The file that leaves the chain and is removed by the complete phase. */
  fileToDelete: string;
  deleteInfo: DeleteInfo;
}

export class NothingToMergeError extends Error {
  constructor(message: string) {
    super(`${message}; there is nothing for compute to merge (the engine must skip compute for this delete)`);
    this.name = 'NothingToMergeError';
  }
}

export function planOnlineDelete(volumeId: string, snapshotId: string, info: SnapInfo | null, chain: readonly ChainLink[]): MergePlan {
  if (!info || !(snapshotId in info) || snapshotId === 'active') {
    throw new NothingToMergeError(`snapshot ${snapshotId} has no entry in the .info of volume ${volumeId}`);
  }
  const snapshotFile = info[snapshotId];
  const activeFile = info.active;
  const at = chain.findIndex((l) => l.name === snapshotFile);
  if (at < 0) throw new Error(`${snapshotFile}, the file of snapshot ${snapshotId}, is not in the backing chain of ${activeFile}`);
  const baseFile = chain[at].backing;
  if (baseFile === null) throw new NothingToMergeError(`${snapshotFile} has no backing file`);

  if (snapshotFile === activeFile) {
    // remotefs.py _delete_snapshot_online, active case: pull the base into the active file. The
    // snapshot owning the base (if any) then lives in the active file; without one, base=None
    // makes libvirt flatten the whole chain into the active file.
    const [baseId = null] = idsOf(info, baseFile);
    const newBase = baseId === null ? null : (chain[at + 1]?.backing ?? null);
    return {
      snapshotId,
      mode: 'pull',
      activeFile,
      snapshotFile,
      baseFile,
      baseId,
      newBackingOfSurvivor: newBase,
      fileToDelete: baseFile,
      deleteInfo: { type: 'qcow2', volume_id: volumeId, file_to_merge: newBase, merge_target_file: null },
    };
  }
  // Not active: commit the snapshot file down into its base; libvirt repoints the file above.
  return {
    snapshotId,
    mode: 'commit',
    activeFile,
    snapshotFile,
    baseFile,
    baseId: null,
    newBackingOfSurvivor: baseFile,
    fileToDelete: snapshotFile,
    deleteInfo: { type: 'qcow2', volume_id: volumeId, file_to_merge: snapshotFile, merge_target_file: baseFile },
  };
}

/**
 * What still shows compute's part of `plan` undone in `chain` (the active file's, top first), or
 * null when it is done. Judged by the plan's files wherever they sit, so a snapshot created on
 * top in the meantime does not hide a finished merge.
 */
export function mergeOutstanding(plan: MergePlan, chain: readonly ChainLink[]): string | null {
  const survivor = chain.find((l) => l.name === plan.snapshotFile);
  if (plan.mode === 'pull') {
    if (!survivor) return `${plan.snapshotFile} is not in the backing chain of ${chain[0]?.name}`;
    if (survivor.backing !== plan.newBackingOfSurvivor) {
      return `${plan.snapshotFile} is still backed by ${survivor.backing ?? 'nothing'}, expected ${plan.newBackingOfSurvivor ?? 'no backing file'}`;
    }
    return null;
  }
  if (survivor) return `${plan.snapshotFile} is still in the backing chain of ${chain[0].name}`;
  return null;
}
