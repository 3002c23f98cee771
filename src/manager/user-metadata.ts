// User metadata of snapshots (not machine state: it never changes a snapshot's phase).
import type { Engine } from '../engine/engine.js';
import { Forbidden, NotFound } from './errors.js';
import { checkMetadataItems, metadataLimitMessage, type Limits } from './limits.js';

/**
 * `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST).
 * Returns the result. A write that would leave more items than the limit writes nothing.
 */
export async function setSnapshotMetadata(engine: Engine, limits: Limits, snapshotId: string, metadata: Record<string, string>, replace: boolean) {
  // The request alone may be over the limit; the merged total is counted where it is written.
  checkMetadataItems(Object.keys(metadata).length, limits);
  const write = await engine.store.setSnapshotMetadata(snapshotId, metadata, replace, engine.clock(), limits.maxMetadataItems);
  if (!write.written) throw new Forbidden(metadataLimitMessage(limits.maxMetadataItems));
  return engine.store.readMetadata(snapshotId);
}

export async function deleteSnapshotMetadataKey(engine: Engine, snapshotId: string, key: string) {
  if (!(await engine.store.deleteSnapshotMetadataKey(snapshotId, key, engine.clock()))) throw new NotFound(`Metadata item was not found`);
}
