// Every phase starts here, under the volume lock: whatever an interrupted phase left behind is
// finished or cleared before anything new is planned, so each phase sees a share in one of the
// states a completed phase leaves.
import { promises as fs } from 'node:fs';
import { imageInfo } from '../../qemu/qemu-img.js';
import { TEMP_MARKER } from '../../share-fs/index.js';
import { idsOf, isReferenced, type SnapInfo } from './info-store.js';
import { belongsToVolume, lockFile, RETIRED_SUFFIX } from './layout.js';
import { exists, type RemoteFsShare } from './share.js';

/**
 * Clears what an interrupted phase left behind: temporaries (never referenced, and nobody else
 * writes while we hold the lock) and retired files. A retired file whose name .info still
 * references was taken out of the chain by an offline delete that stopped before recording it;
 * recording it now is exactly what that delete had left to do. Returns .info as it then stands.
 */
export async function recover(share: RemoteFsShare, volumeId: string): Promise<SnapInfo | null> {
  let info = await share.infos.read(volumeId);
  let names: string[];
  try {
    names = await fs.readdir(share.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return info;
    throw err;
  }
  const lock = lockFile(volumeId);
  for (const name of names) {
    if (!belongsToVolume(volumeId, name) || name.startsWith(lock)) continue;
    if (name.includes(TEMP_MARKER)) {
      await fs.rm(share.at(name), { force: true });
      continue;
    }
    if (!name.endsWith(RETIRED_SUFFIX)) continue;
    const original = name.slice(0, -RETIRED_SUFFIX.length);
    if (info && isReferenced(info, original) && !(await exists(share.at(original)))) {
      const next: SnapInfo = { ...info };
      for (const id of idsOf(info, original)) delete next[id];
      if (info.active === original) {
        const below = share.backingName(volumeId, (await imageInfo(share.at(name))).backingFile);
        if (!below) throw new Error(`${name} has no backing file to become the active file`);
        next.active = below;
      }
      await share.infos.write(volumeId, next);
      await share.afterStep('info-written');
      info = next;
    }
    if (!isReferenced(info, original)) await fs.rm(share.at(name), { force: true });
  }
  return info;
}
