// What the storage driver and the compute agent both need from a shared directory: writes that
// survive a crash whole, and locks that keep two operations on one volume apart. It knows nothing
// of volumes or chains, so both sides import it and neither imports the other.
export { fsyncDir, TEMP_MARKER, writeDurably, type DurableContent, type DurableWriteOptions } from './durable-write.js';
export { FileVolumeLocks, type FileLockOptions, type LockHolder, type VolumeLocks } from './file-lock.js';
export { KeyedLock } from './keyed-lock.js';
