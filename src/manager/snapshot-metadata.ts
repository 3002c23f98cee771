// User metadata of snapshots (not machine state: it never changes a snapshot's phase).
import type { Engine } from '../engine/engine.js';
import { NotFound } from './errors.js';

/** `replace`: the given keys become the whole metadata (PUT); otherwise they are merged (POST). Returns the result. */
export async function setSnapshotMetadata(engine: Engine, snapshotId: string, metadata: Record<string, string>, replace: boolean) {
  await engine.store.setSnapshotMetadata(snapshotId, metadata, replace, engine.clock());
  return engine.store.readMetadata(snapshotId);
}

export async function deleteSnapshotMetadataKey(engine: Engine, snapshotId: string, key: string) {
  if (!(await engine.store.deleteSnapshotMetadataKey(snapshotId, key, engine.clock()))) throw new NotFound(`Metadata item was not found`);
}
