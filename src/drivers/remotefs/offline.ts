// Snapshots of a detached volume: nobody has its files open, so the driver does all the work
// itself with qemu-img, in one phase each (no compute involved).
import { promises as fs } from 'node:fs';
import { commitIntoBacking, rebaseUnsafe } from '../../qemu/qemu-img.js';
import { fsyncDir } from '../../share-fs/index.js';
import type { PhaseResult, SnapshotRef } from '../driver.js';
import { idsOf, type SnapInfo } from './info-store.js';
import { RETIRED_SUFFIX, volumeFile } from './layout.js';
import { ensureOverlay, removeUnusedOverlay } from './overlay.js';
import { recover } from './recovery.js';
import { exists, type RemoteFsShare } from './share.js';

export async function createSnapshot(share: RemoteFsShare, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const info = await recover(share, volumeId);
    if (info && id in info) return {};
    const active = info?.active ?? volumeFile(volumeId);
    const file = await ensureOverlay(share, volumeId, id, active, snapshot.volume.size, info);
    await share.infos.write(volumeId, { ...(info ?? {}), active: file, [id]: file });
    await share.afterStep('info-written');
    return {};
  });
}

export async function deleteSnapshot(share: RemoteFsShare, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const info = await recover(share, volumeId);
    // remotefs.py _delete_snapshot: no record means nothing was ever created for it, but an
    // overlay a failed create left behind goes with it (when no chain uses it).
    if (id === 'active') return {};
    if (!info || !(id in info)) {
      await removeUnusedOverlay(share, volumeId, id, info);
      return {};
    }
    const file = info[id];
    const owners = idsOf(info, file);
    if (owners.length !== 1) throw new Error(`${file} is the file of snapshots ${owners.join(', ')} in ${share.infos.pathOf(volumeId)}`);
    if (!(await exists(share.at(file)))) throw new Error(`${file}, the file of snapshot ${id}, is missing from ${share.dir}`);

    const chain = await share.chainOf(volumeId, info.active);
    const at = chain.findIndex((l) => l.name === file);
    const next: SnapInfo = { ...info };
    delete next[id];

    if (at < 0) {
      // In a consistent share, only after a crash between the rebase and the retire below: the merge is
      // done and nothing reads this file any more.
      await retireAndRecord(share, volumeId, file, next);
      return {};
    }
    const base = chain[at + 1];
    if (!base) {
      // The chain's root: nothing lies below it, so the snapshot holds no data to merge.
      await share.infos.write(volumeId, next);
      await share.afterStep('info-written');
      return {};
    }
    await commitIntoBacking(share.at(file));
    await share.afterStep('committed');
    if (at === 0) {
      next.active = base.name;
    } else {
      // The file above now reads the merged data straight from the base.
      await rebaseUnsafe(share.at(chain[at - 1].name), base.name, base.format);
      await share.afterStep('rebased');
    }
    await retireAndRecord(share, volumeId, file, next);
    return {};
  });
}

/**
 * Takes `file` out of the share in three steps: rename it aside (a re-run can still read its
 * header), record .info without it, then remove it. recover() finishes the job from either
 * intermediate state.
 */
async function retireAndRecord(share: RemoteFsShare, volumeId: string, file: string, next: SnapInfo): Promise<void> {
  const retired = share.at(`${file}${RETIRED_SUFFIX}`);
  await fs.rename(share.at(file), retired);
  await fsyncDir(share.dir);
  await share.afterStep('retired');
  await share.infos.write(volumeId, next);
  await share.afterStep('info-written');
  await fs.rm(retired, { force: true });
}
