// The one place groups learn which volume types exist: a group's volume types are named by id or
// by name, as Cinder resolves them, and stored by id in the group's own join table.
import type { SnapshotStore } from '../engine/store/index.js';
import { NotFound } from './errors.js';

/** The ids of the volume types `namesOrIds` names, in order; 404 for the first that names none (Cinder's VolumeTypeNotFound). */
export async function volumeTypeIdsOf(store: SnapshotStore, namesOrIds: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const nameOrId of namesOrIds) {
    const type = (await store.volumeTypes.find(nameOrId)) ?? (await store.volumeTypes.findByName(nameOrId));
    if (!type) throw new NotFound(`Volume type ${nameOrId} could not be found.`);
    ids.push(type.id);
  }
  return ids;
}
