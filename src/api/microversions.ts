/**
 * Cinder's microversion table (cinder/api/microversions.py, rest_api_version_history.rst), for
 * the parts this service serves, and the gate of every field of the volume and snapshot views.
 * Views and routes ask here, never spell a version out themselves, so one table says what a
 * client at a given microversion sees.
 */
import type { Context } from 'hono';
import { compareVersions, parseApiVersion, type ApiVersion } from './version.js';

/** The names are Cinder's constants (cinder/api/microversions.py). */
export const MV = {
  BASE_VERSION: '3.0',
  VOLUME_SUMMARY: '3.12',
  GROUP_VOLUME: '3.13',
  GROUP_SNAPSHOTS: '3.14',
  VOLUME_DETAIL_PROVIDER_ID: '3.21',
  SNAPSHOT_LIST_METADATA_FILTER: '3.22',
  SNAPSHOT_SORT: '3.30',
  VOLUME_SUMMARY_METADATA: '3.36',
  SNAPSHOT_LIST_USER_ID: '3.41',
  SUPPORT_COUNT_INFO: '3.45',
  VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS: '3.48',
  VOLUME_CLUSTER_NAME: '3.61',
  VOLUME_TYPE_ID_IN_VOLUME_DETAIL: '3.63',
  ENCRYPTION_KEY_ID_IN_DETAILS: '3.64',
  USE_QUOTA: '3.65',
  SNAPSHOT_IN_USE: '3.66',
  SHARED_TARGETS_TRISTATE: '3.69',
} as const;
export type Microversion = (typeof MV)[keyof typeof MV];

const parsed = new Map<string, ApiVersion>();

/** True when `version` is `min` or later (Cinder's `req_version.matches(min, None)`). */
export function supports(version: ApiVersion, min: Microversion): boolean {
  let m = parsed.get(min);
  if (!m) parsed.set(min, (m = parseApiVersion(min)));
  return compareVersions(version, m) >= 0;
}

/** The request's negotiated microversion (3.0 when nothing set it, as Cinder's default). */
export function requestVersion(c: Context): ApiVersion {
  return c.get('apiVersion') ?? parseApiVersion(MV.BASE_VERSION);
}

/**
 * The fields a volume's detailed view gains with a microversion (cinder/api/v3/views/volumes.py
 * `detail`). `admin`: only for a caller Cinder's context calls admin.
 */
export const VOLUME_FIELD_GATES = {
  group_id: { since: MV.GROUP_VOLUME, admin: false },
  provider_id: { since: MV.VOLUME_DETAIL_PROVIDER_ID, admin: true },
  shared_targets: { since: MV.VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS, admin: false },
  service_uuid: { since: MV.VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS, admin: false },
  cluster_name: { since: MV.VOLUME_CLUSTER_NAME, admin: true },
  volume_type_id: { since: MV.VOLUME_TYPE_ID_IN_VOLUME_DETAIL, admin: false },
  // Only when the volume has a key other than Cinder's fixed one, as Cinder shows it.
  encryption_key_id: { since: MV.ENCRYPTION_KEY_ID_IN_DETAILS, admin: false },
  consumes_quota: { since: MV.USE_QUOTA, admin: false },
} as const satisfies Record<string, { since: Microversion; admin: boolean }>;

/** The fields a snapshot's detailed view gains (cinder/api/v3/views/snapshots.py `detail`). */
export const SNAPSHOT_FIELD_GATES = {
  group_snapshot_id: { since: MV.GROUP_SNAPSHOTS, admin: false },
  user_id: { since: MV.SNAPSHOT_LIST_USER_ID, admin: false },
  consumes_quota: { since: MV.USE_QUOTA, admin: false },
} as const satisfies Record<string, { since: Microversion; admin: boolean }>;

/** Keys of collection bodies gated by version: `count` with `with_count=true` from 3.45. */
export const COLLECTION_FIELD_GATES = {
  count: { since: MV.SUPPORT_COUNT_INFO, admin: false },
} as const satisfies Record<string, { since: Microversion; admin: boolean }>;

type Gates = Record<string, { since: Microversion; admin: boolean }>;

/** Whether a view at `version`, for an admin or not, carries the gated `field`. */
export function shows<G extends Gates>(gates: G, field: keyof G, version: ApiVersion, admin: boolean): boolean {
  const gate = gates[field]!;
  return supports(version, gate.since) && (admin || !gate.admin);
}
