// Files in the share that no volume or snapshot owns: what a crash, a hand repair or an older
// release may have left. They are reported, never removed: a file nobody here knows about may
// still be someone's data (an operator's copy, another service's volume on the same export).
import { promises as fs } from 'node:fs';
import { AGENT_QEMU_RUN_DIR_NAME, AGENT_STATE_FILE_NAME } from '../../contracts/compute-agent-files.js';
import { TEMP_MARKER } from '../../share-fs/index.js';
import type { OrphanFile, OwnedIds } from '../driver.js';
import { isReferenced, type SnapInfo } from './info-store.js';
import { RETIRED_SUFFIX } from './layout.js';
import type { RemoteFsShare } from './share.js';

/** The compute agent's state file (and its temporaries) and its QEMUs' run directory live in the share when it runs there. */
const isAgentFile = (name: string) => name.startsWith(AGENT_STATE_FILE_NAME) || name === AGENT_QEMU_RUN_DIR_NAME;
const VOLUME_FILE = /^volume-([0-9a-f-]+)(?:\.(.+))?$/i;
const SNAPSHOT_SUFFIX = /^[0-9a-f-]+$/i;

export async function findOrphans(share: RemoteFsShare, ownedNow: () => Promise<OwnedIds>): Promise<OrphanFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(share.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const owned = await ownedNow();
  const infos = new Map<string, SnapInfo | null>();
  const infoOf = async (volumeId: string) => {
    if (!infos.has(volumeId)) infos.set(volumeId, await share.infos.read(volumeId).catch(() => null));
    return infos.get(volumeId)!;
  };
  const orphans: OrphanFile[] = [];
  for (const name of names.sort()) {
    if (isAgentFile(name)) continue;
    const why = await whyOrphan(name, owned, infoOf);
    if (why === null) continue;
    const st = await fs.lstat(share.at(name)).catch(() => null);
    if (!st) continue; // gone meanwhile
    orphans.push({ name, size: st.size, modifiedAt: st.mtime.toISOString(), why });
  }
  return orphans;
}

async function whyOrphan(name: string, owned: OwnedIds, infoOf: (volumeId: string) => Promise<SnapInfo | null>): Promise<string | null> {
  const m = VOLUME_FILE.exec(name);
  if (!m) return 'not a volume file';
  const [, volumeId, rest] = m as unknown as [string, string, string | undefined];
  if (!owned.volumeIds.has(volumeId)) return `volume ${volumeId} does not exist`;
  // The volume's own file, .info, its lock, temporaries and retired files: recovery handles these.
  if (rest === undefined || rest === 'info' || rest.startsWith('lock') || rest.includes(TEMP_MARKER.slice(1)) || rest.endsWith(RETIRED_SUFFIX)) return null;
  if (!SNAPSHOT_SUFFIX.test(rest)) return `not a file of volume ${volumeId}'s chain`;
  if (owned.snapshotIds.has(rest)) return null;
  // After an online delete of the active snapshot, the surviving file keeps the deleted
  // snapshot's name and .info maps another snapshot (or `active`) to it.
  if (isReferenced(await infoOf(volumeId), name)) return null;
  return `snapshot ${rest} does not exist and .info of volume ${volumeId} does not name the file`;
}
