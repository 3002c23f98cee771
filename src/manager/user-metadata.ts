// User metadata of snapshots and volumes (not machine state: it never changes a phase). Both
// kinds share the rules: the same limit, merge (POST) or replace (PUT), a removed key soft-deleted.
import type { Engine } from '../engine/engine.js';
import type { UserMetadataTable } from '../engine/store/index.js';
import { Forbidden, NotFound } from './errors.js';
import { checkMetadataItems, metadataLimitMessage, type Limits } from './limits.js';

/** Whose metadata: the table, and the message Cinder gives for a key the owner does not have. */
export interface MetadataOwner {
  table: UserMetadataTable;
  id: string;
  missingKey: (key: string) => string;
}

export const snapshotMetadataOwner = (id: string): MetadataOwner => ({ table: 'snapshot_metadata', id, missingKey: () => 'Metadata item was not found' });
// Cinder's VolumeMetadataNotFound.
export const volumeMetadataOwner = (id: string): MetadataOwner => ({
  table: 'volume_metadata',
  id,
  missingKey: (key) => `Volume ${id} has no metadata with key ${key}.`,
});

export function readUserMetadata(engine: Engine, owner: MetadataOwner): Promise<Record<string, string>> {
  return owner.table === 'snapshot_metadata' ? engine.store.readMetadata(owner.id) : engine.store.readVolumeMetadata(owner.id);
}

/**
 * `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST).
 * Returns the result. A write that would leave more items than the limit writes nothing.
 */
export async function setUserMetadata(engine: Engine, limits: Limits, owner: MetadataOwner, metadata: Record<string, string>, replace: boolean) {
  // The request alone may be over the limit; the merged total is counted where it is written.
  checkMetadataItems(Object.keys(metadata).length, limits);
  const write = await engine.store.setUserMetadata(owner.table, owner.id, metadata, replace, engine.clock(), limits.maxMetadataItems);
  if (!write.written) throw new Forbidden(metadataLimitMessage(limits.maxMetadataItems));
  return readUserMetadata(engine, owner);
}

export async function deleteUserMetadataKey(engine: Engine, owner: MetadataOwner, key: string) {
  if (!(await engine.store.deleteUserMetadataKey(owner.table, owner.id, key, engine.clock()))) throw new NotFound(owner.missingKey(key));
}
