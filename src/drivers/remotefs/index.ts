// Entry point for the service's wiring: REMOTEFS_SHARE becomes `shareDir`, and checkQemuTools()
// at start turns a host without qemu-utils into one clear error instead of failed snapshots.
import { RemoteFsDriver, type RemoteFsDriverOptions } from './remotefs-driver.js';

export { RemoteFsDriver, DELETE_PLAN_KEY, type RemoteFsDriverOptions } from './remotefs-driver.js';
export { checkQemuTools, QemuImgError } from '../../qemu/qemu-img.js';
export { NothingToMergeError, type DeleteInfo, type MergePlan } from './merge-plan.js';
export type { SnapInfo } from './info-store.js';
export type { VolumeLocks } from '../../share-fs/index.js';

export function createRemoteFsDriver(shareDir: string, options: Omit<RemoteFsDriverOptions, 'shareDir'> = {}): RemoteFsDriver {
  return new RemoteFsDriver({ ...options, shareDir });
}
