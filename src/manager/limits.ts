// The request limits of this deployment (VOLUME_MAX_SIZE_GB, METADATA_MAX_ITEMS in src/config.ts),
// checked before any row is written or any driver called, so a request beyond them leaves nothing
// behind. Answered as the OpenStack services answer theirs.
import { Forbidden, OverLimit } from './errors.js';

export interface Limits {
  /** Largest volume size a create may ask for, in GiB. */
  maxVolumeSizeGiB: number;
  /** Most live metadata items one snapshot or volume may hold. */
  maxMetadataItems: number;
}

/**
 * Cinder's per_volume_gigabytes check (VolumeSizeExceedsLimit, a QuotaError: 413 with
 * Retry-After 0); the message is what Cinder's FaultWrapper makes of it, the class name first.
 */
export function checkVolumeSize(size: number, limits: Limits): void {
  if (size > limits.maxVolumeSizeGiB) {
    throw new OverLimit(`VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit ${limits.maxVolumeSizeGiB}G.`);
  }
}

/**
 * Cinder bounds each key and value (255 characters, checked by the request schemas) but not how
 * many there are; Nova's metadata_items quota does, with this message and a 403.
 */
export const metadataLimitMessage = (allowed: number) => `Maximum number of metadata items exceeds ${allowed}`;

export function checkMetadataItems(count: number, limits: Limits): void {
  if (count > limits.maxMetadataItems) throw new Forbidden(metadataLimitMessage(limits.maxMetadataItems));
}
