// Snapshot create of an attached volume, in two phases around compute: begin prepares the overlay
// and tells compute its name (create_info); compute switches the VM to it; complete checks the
// switch is possible and records the overlay as the active file in .info.
import { imageInfo } from '../../qemu/qemu-img.js';
import { CREATE_INFO_KEY, type PhaseResult, type SnapshotRef } from '../driver.js';
import { snapshotFile, volumeFile } from './layout.js';
import { ensureOverlay } from './overlay.js';
import { recover } from './recovery.js';
import { exists, type RemoteFsShare } from './share.js';

export async function createSnapshotAssistedBegin(share: RemoteFsShare, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const info = await recover(share, volumeId);
    const newFile = snapshotFile(volumeId, id);
    if (!(info && id in info)) {
      await ensureOverlay(share, volumeId, id, info?.active ?? volumeFile(volumeId), snapshot.volume.size, info);
    }
    // Nova's create_info, key for key: compute switches the VM to new_file.
    return { adminMetadata: { [CREATE_INFO_KEY]: JSON.stringify({ snapshot_id: id, type: 'qcow2', new_file: newFile }) } };
  });
}

export async function createSnapshotAssistedComplete(share: RemoteFsShare, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const info = await recover(share, volumeId);
    const newFile = snapshotFile(volumeId, id);
    const told = snapshot.adminMetadata[CREATE_INFO_KEY];
    if (told && (JSON.parse(told) as { new_file?: unknown }).new_file !== newFile) {
      throw new Error(`create_info of snapshot ${id} names ${told}, expected new_file ${newFile}`);
    }
    if (info && id in info) {
      return { volume: { connectionInfo: await share.connectionInfo(info.active, snapshot.volume.size) } };
    }
    const active = info?.active ?? volumeFile(volumeId);
    if (!(await exists(share.at(newFile)))) throw new Error(`${newFile}, the new file of snapshot ${id}, is missing from ${share.dir}`);
    const backing = share.backingName(volumeId, (await imageInfo(share.at(newFile))).backingFile);
    if (backing !== active) throw new Error(`${newFile} is backed by ${backing ?? 'nothing'}, but the active file is ${active}`);
    await share.infos.write(volumeId, { ...(info ?? {}), active: newFile, [id]: newFile });
    await share.afterStep('info-written');
    return { volume: { connectionInfo: await share.connectionInfo(newFile, snapshot.volume.size) } };
  });
}
