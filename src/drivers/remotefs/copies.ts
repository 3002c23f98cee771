// A volume's data from elsewhere, and a volume grown: Cinder's remotefs.py
// _copy_volume_from_snapshot / _create_cloned_volume and nfs.py extend_volume.
//
// A copy is `qemu-img convert` of a chain into a new standalone qcow2: the snapshot's data is the
// backing file of the overlay .info records for the snapshot (the file that became read-only when
// the snapshot was taken, with whatever it reads through), a clone's is the source's active file
// and everything below it. The new file is published under its final name only once complete
// (temporary, fsync, rename), so a phase run again after a crash finds either nothing or the whole
// copy. The source is read under its volume lock, so no snapshot operation rewrites its chain
// meanwhile; the new volume's lock is taken first (a volume being created is never a source, so
// two copies cannot wait on each other).
import { convertImage, imageInfo, resizeImage } from '../../qemu/qemu-img.js';
import type { SnapshotRef, VolumeRef } from '../driver.js';
import { volumeFile } from './layout.js';
import { recover } from './recovery.js';
import { exists, type RemoteFsShare } from './share.js';

const GiB = 1024 ** 3;

/** The file whose chain holds the snapshot's data (what Cinder converts). */
async function snapshotDataFile(share: RemoteFsShare, snapshot: SnapshotRef): Promise<string> {
  const info = await recover(share, snapshot.volumeId);
  const forward = info?.[snapshot.id];
  if (!info || forward === undefined) throw new Error(`snapshot ${snapshot.id} has no file in ${share.infos.pathOf(snapshot.volumeId)}`);
  const backing = share.backingName(snapshot.volumeId, (await imageInfo(share.at(forward))).backingFile);
  if (!backing) throw new Error(`${forward}, the overlay of snapshot ${snapshot.id}, has no backing file`);
  return backing;
}

/** The source volume's active file: the top of the chain a reader sees. */
async function activeFile(share: RemoteFsShare, volumeId: string): Promise<string> {
  const info = await recover(share, volumeId);
  return info?.active ?? volumeFile(volumeId);
}

/**
 * The new volume's file from `read` (run under the source's lock, naming the file to convert),
 * then grown to the volume's size if that is larger than the source's.
 */
async function copyInto(share: RemoteFsShare, volume: VolumeRef, sourceVolumeId: string, read: () => Promise<string>): Promise<{ providerLocation: string }> {
  return share.withVolume(volume.id, async () => {
    await recover(share, volume.id);
    const target = volumeFile(volume.id);
    if (!(await exists(share.at(target)))) {
      await share.withVolume(sourceVolumeId, async () => {
        const source = await read();
        await share.publish(target, async (temp) => {
          await convertImage(share.at(source), temp);
          if ((await imageInfo(temp)).virtualSize < volume.size * GiB) await resizeImage(temp, volume.size);
        });
      });
      await share.afterStep('copied');
    }
    await share.checkImage(target, volume.size);
    return { providerLocation: share.exportName };
  });
}

export function createVolumeFromSnapshot(share: RemoteFsShare, volume: VolumeRef, snapshot: SnapshotRef): Promise<{ providerLocation: string }> {
  if (volume.size < snapshot.volumeSize) throw new Error(`volume ${volume.id} (${volume.size} GiB) is smaller than snapshot ${snapshot.id} (${snapshot.volumeSize} GiB)`);
  return copyInto(share, volume, snapshot.volumeId, () => snapshotDataFile(share, snapshot));
}

export function createClonedVolume(share: RemoteFsShare, volume: VolumeRef, source: VolumeRef): Promise<{ providerLocation: string }> {
  if (volume.size < source.size) throw new Error(`volume ${volume.id} (${volume.size} GiB) is smaller than its source ${source.id} (${source.size} GiB)`);
  return copyInto(share, volume, source.id, () => activeFile(share, source.id));
}

/**
 * nfs.py extend_volume: the active file is resized (the volume may have snapshots; their files
 * keep the size they had, as in Cinder, and qcow2 reads zeros past a shorter backing file). A
 * re-run finds the file already at the new size and does nothing.
 */
export async function extendVolume(share: RemoteFsShare, volume: VolumeRef, newSizeGiB: number): Promise<void> {
  // nfs.py refuses it too (no attached extend until Nova is told, lp#1870367); the API refuses first.
  if (volume.attachStatus === 'attached') throw new Error(`Cannot extend volume ${volume.id} while it is attached.`);
  await share.withVolume(volume.id, async () => {
    const active = await activeFile(share, volume.id);
    const size = (await imageInfo(share.at(active))).virtualSize;
    if (size < newSizeGiB * GiB) await resizeImage(share.at(active), newSizeGiB);
    await share.checkImage(active, newSizeGiB);
  });
}
