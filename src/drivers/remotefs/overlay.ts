// The new file a snapshot creates, offline or assisted alike: a qcow2 overlay on the active file.
import { promises as fs } from 'node:fs';
import { createOverlay, imageInfo } from '../../qemu/qemu-img.js';
import { isReferenced, type SnapInfo } from './info-store.js';
import { snapshotFile, volumeFile } from './layout.js';
import { exists, type RemoteFsShare } from './share.js';

/**
 * The overlay for snapshot `id` on `active`, as §2 of the reference: qemu-img create with the
 * absolute backing path, then rebase -u to the relative name. Built under a temporary name, so
 * a file with the final name is always complete; one left by an earlier run is kept if it
 * already sits on `active`.
 */
export async function ensureOverlay(
  share: RemoteFsShare,
  volumeId: string,
  id: string,
  active: string,
  sizeGiB: number,
  info: SnapInfo | null,
): Promise<string> {
  const file = snapshotFile(volumeId, id);
  if (await exists(share.at(file))) {
    if (share.backingName(volumeId, (await imageInfo(share.at(file))).backingFile) === active) return file;
    if (isReferenced(info, file)) throw new Error(`${file} exists, is in use, and is not backed by the active file ${active}`);
    await fs.rm(share.at(file));
  }
  const format = (await imageInfo(share.at(active))).format;
  await share.publish(file, (temp) => createOverlay(temp, share.at(active), active, format, sizeGiB));
  await share.afterStep('overlay-created');
  return file;
}

/**
 * The overlay a failed create left (begin made it, compute never switched to it), removed when
 * nothing refers to it: not .info, not the active chain. Anything else keeps it, and says why.
 */
export async function removeUnusedOverlay(share: RemoteFsShare, volumeId: string, id: string, info: SnapInfo | null): Promise<void> {
  const overlay = snapshotFile(volumeId, id);
  if (!(await exists(share.at(overlay)))) return;
  const inUse = await overlayInUseReason(share, volumeId, overlay, info);
  if (inUse !== null) throw new Error(`refusing to remove ${overlay}: ${inUse}`);
  await removeOverlay(share, overlay);
}

/** Why `overlay` must stay (.info references it, or it is in the active file's chain), or null when nothing uses it. */
export async function overlayInUseReason(share: RemoteFsShare, volumeId: string, overlay: string, info: SnapInfo | null): Promise<string | null> {
  if (isReferenced(info, overlay)) return `.info of volume ${volumeId} still references it`;
  const active = info?.active ?? volumeFile(volumeId);
  if (await exists(share.at(active))) {
    const chain = await share.chainOf(volumeId, active);
    if (chain.some((l) => l.name === overlay)) return `it is in the backing chain of ${active}`;
  }
  return null;
}

/** Removes an overlay overlayInUseReason found unused. */
export async function removeOverlay(share: RemoteFsShare, overlay: string): Promise<void> {
  await fs.rm(share.at(overlay), { force: true });
  await share.afterStep('overlay-removed');
}
