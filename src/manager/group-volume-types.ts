// The one place groups learn whether a volume type exists. Volume types are built on another
// branch (`types`); until it is merged, a group's volume type ids are stored in its own join table
// (no foreign key) and every well-formed id is taken. After the merge, re-point these two
// functions at the volume_types table (by id, or by name as Cinder resolves them).
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The ids among `ids` that name no volume type (Cinder answers 404 for the first). */
export async function missingVolumeTypes(ids: readonly string[]): Promise<string[]> {
  return ids.filter((id) => !UUID_PATTERN.test(id));
}

/** A volume create's `volume_type` (a name or an id) as the id a group lists; null: unknown. */
export async function volumeTypeIdOf(nameOrId: string): Promise<string | null> {
  return nameOrId;
}
