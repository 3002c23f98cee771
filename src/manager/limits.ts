// The request limits of this deployment (VOLUME_MAX_SIZE_GB, METADATA_MAX_ITEMS and QUOTA_* in
// src/config.ts), checked before any row is written or any driver called (quotas: in the
// transaction that would write it), so a request beyond them leaves nothing behind. Answered as
// the OpenStack services answer theirs.
import { Forbidden } from './errors.js';

/** The quota resources whose default is a QUOTA_* setting (-1: unlimited). */
export interface QuotaSettings {
  volumes: number;
  snapshots: number;
  gigabytes: number;
  backups: number;
  backup_gigabytes: number;
  groups: number;
}

export interface Limits {
  /**
   * The default of Cinder's per_volume_gigabytes quota: the largest volume a create may ask for,
   * in GiB, unless the project's quota (or the default class) says otherwise (quotas.ts).
   */
  maxVolumeSizeGiB: number;
  /** Most live metadata items one snapshot or volume may hold. */
  maxMetadataItems: number;
  /** The defaults of the other quotas, below the default quota class and the projects' own. */
  quotas: QuotaSettings;
}

/**
 * Cinder bounds each key and value (255 characters, checked by the request schemas) but not how
 * many there are; Nova's metadata_items quota does, with this message and a 403.
 */
export const metadataLimitMessage = (allowed: number) => `Maximum number of metadata items exceeds ${allowed}`;

export function checkMetadataItems(count: number, limits: Limits): void {
  if (count > limits.maxMetadataItems) throw new Forbidden(metadataLimitMessage(limits.maxMetadataItems));
}
