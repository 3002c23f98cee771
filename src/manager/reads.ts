// Single rows as the manager's callers see them: a deleted row is not found. Collections (with
// Cinder's paging) are listing.ts's.
import type { SnapshotRow, SnapshotStore, VolumeRow, VolumeWithAttachments } from '../engine/store/index.js';
import { NotFound } from './errors.js';

export class Reads {
  constructor(private readonly store: SnapshotStore) {}

  /** A volume with its live attachments, as the API renders it. */
  async volume(volumeId: string): Promise<VolumeWithAttachments> {
    const volume = await this.store.readVolume(volumeId);
    if (!volume || volume.deleted) throw new NotFound(`Volume ${volumeId} could not be found.`);
    return volume;
  }

  /** A volume a command judges (no attachments); concurrent reads share one query. */
  async liveVolume(volumeId: string): Promise<VolumeRow> {
    const volume = await this.store.findVolume(volumeId);
    if (!volume || volume.deleted) throw new NotFound(`Volume ${volumeId} could not be found.`);
    return volume;
  }

  /** A volume's history, oldest first; it outlives the volume. */
  volumeTransitions(volumeId: string) {
    return this.store.readVolumeHistory(volumeId);
  }

  /** Who owns a volume, deleted or not (null: it never existed). */
  volumeOwner(volumeId: string) {
    return this.store.volumeOwner(volumeId);
  }

  async snapshot(snapshotId: string): Promise<SnapshotRow> {
    const snapshot = await this.store.findSnapshot(snapshotId);
    if (!snapshot || snapshot.deleted) throw new NotFound(`Snapshot ${snapshotId} could not be found.`);
    return snapshot;
  }

  /** A snapshot's history, oldest first; it outlives the snapshot. */
  transitions(snapshotId: string) {
    return this.store.readHistory(snapshotId);
  }

  /** Who owns a snapshot, deleted or not (null: it never existed). */
  snapshotOwner(snapshotId: string) {
    return this.store.snapshotOwner(snapshotId);
  }

  /** A snapshot's user metadata, for rendering it. */
  metadata(snapshotId: string): Promise<Record<string, string>> {
    return this.store.readMetadata(snapshotId);
  }

  adminMetadata(snapshotId: string): Promise<Record<string, string>> {
    return this.store.readAdminMetadata(snapshotId);
  }
}
