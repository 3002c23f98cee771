/** Thrown inside a transaction to roll it back when the row moved on since it was read. */
export class VersionConflict extends Error {
  constructor(
    readonly snapshotId: string,
    readonly expectedVersion: number,
  ) {
    super(`snapshot ${snapshotId} is no longer at version ${expectedVersion}`);
  }
}
