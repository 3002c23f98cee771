// File names in the share, as Cinder's RemoteFS drivers lay them out, so a share written by
// either can be read by the other. Ids become file names, so they are checked first: a crafted
// id must never reach outside the share.

// Cinder's backing-file template only admits hex digits and dashes after `volume-<id>.`.
const ID = /^[0-9a-f-]+$/i;

export function checkId(kind: 'volume' | 'snapshot', id: string): string {
  if (!ID.test(id)) throw new Error(`invalid ${kind} id ${JSON.stringify(id)}: expected hex digits and dashes`);
  return id;
}

export const volumeFile = (volumeId: string) => `volume-${checkId('volume', volumeId)}`;
export const snapshotFile = (volumeId: string, snapshotId: string) => `${volumeFile(volumeId)}.${checkId('snapshot', snapshotId)}`;
export const infoFile = (volumeId: string) => `${volumeFile(volumeId)}.info`;
export const lockFile = (volumeId: string) => `${volumeFile(volumeId)}.lock`;

/** Suffix of a chain file that an offline delete took out of the chain but not yet out of .info. */
export const RETIRED_SUFFIX = '.deleting';

/** Whether `name` is one of this volume's files: the volume, its overlays, .info and temporaries. */
export function belongsToVolume(volumeId: string, name: string): boolean {
  const base = volumeFile(volumeId);
  return name === base || name.startsWith(`${base}.`);
}

/** Whether `name` can be a link of this volume's qcow2 chain (what Cinder accepts as a backing file). */
export function isChainFileName(volumeId: string, name: string): boolean {
  const base = volumeFile(volumeId);
  return name === base || (name.startsWith(`${base}.`) && ID.test(name.slice(base.length + 1)));
}
