// A volume's own file: created once, removed with every file of its chain, and named to compute
// as the chain's active file when it attaches.
import { promises as fs } from 'node:fs';
import { createImage } from '../../qemu/qemu-img.js';
import { fsyncDir } from '../../share-fs/index.js';
import type { ConnectionInfo, VolumeRef } from '../driver.js';
import { belongsToVolume, lockFile, volumeFile } from './layout.js';
import { recover } from './recovery.js';
import { exists, type RemoteFsShare } from './share.js';

export async function createVolume(share: RemoteFsShare, volume: VolumeRef): Promise<{ providerLocation: string }> {
  // Only here: for any other operation a missing share means it is not mounted, and creating
  // the directory would put volumes on the local disk under the mount point.
  volumeFile(volume.id);
  await fs.mkdir(share.dir, { recursive: true });
  return share.withVolume(volume.id, async () => {
    const info = await recover(share, volume.id);
    const file = info?.active ?? volumeFile(volume.id);
    if (info || (await exists(share.at(file)))) {
      await share.checkImage(file, volume.size);
    } else {
      await share.publish(file, (temp) => createImage(temp, volume.size));
    }
    return { providerLocation: share.exportName };
  });
}

export async function deleteVolume(share: RemoteFsShare, volume: VolumeRef): Promise<void> {
  volumeFile(volume.id);
  if (!(await exists(share.dir))) return;
  await share.withVolume(volume.id, async () => {
    let names: string[];
    try {
      names = await fs.readdir(share.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const info = share.infos.pathOf(volume.id);
    // The lock file is ours while we run; releasing it removes it.
    const doomed = names.filter((n) => belongsToVolume(volume.id, n) && !n.startsWith(lockFile(volume.id)));
    // .info last: until it goes, a re-run after a crash still recognises the volume's files.
    for (const name of doomed.filter((n) => share.at(n) !== info)) await fs.rm(share.at(name), { force: true });
    await fs.rm(info, { force: true });
    await fsyncDir(share.dir);
  });
}

export async function initializeConnection(share: RemoteFsShare, volume: VolumeRef): Promise<ConnectionInfo> {
  return share.withVolume(volume.id, async () => {
    const info = await recover(share, volume.id);
    return share.connectionInfo(info?.active ?? volumeFile(volume.id), volume.size);
  });
}
