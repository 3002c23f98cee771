// Quotas, quota classes and absolute limits as Cinder answers them (cinder/api/contrib/quotas.py,
// quota_classes.py, cinder/api/v3/limits.py with used_limits.py, cinder/quota.py). The limits
// are rows (src/engine/store/quota.ts); what is used is counted from the volumes and snapshots,
// and a create is judged in the transaction that inserts its row (the demands built here).
import type { Engine } from '../engine/engine.js';
import { DEFAULT_QUOTA_CLASS, QUOTA_RESOURCES, perTypeResource, type QuotaDemand, type QuotaLimits, type QuotaRefusal, type QuotaUsage } from '../engine/store/index.js';
import { InvalidRequest, OverLimit } from './errors.js';
import type { Limits } from './limits.js';

/** Keys a quota set may carry that are not resources (cinder/quota.py NON_QUOTA_KEYS): ignored. */
const NON_QUOTA_KEYS: ReadonlySet<string> = new Set(['tenant_id', 'id']);
/** Cinder's constants.DB_MAX_INT. */
const DB_MAX_INT = 0x7fffffff;

/** Per volume type, Cinder lists these resources (`volumes_<type>`, ...), in this order. */
const PER_TYPE_SHOWN = ['volumes', 'snapshots', 'gigabytes'] as const;

export interface QuotaUsageView {
  limit: number;
  in_use: number;
  reserved: number;
}

/** The live volume types' names, for the per-type resources. */
export type VolumeTypeNames = () => Promise<readonly string[]>;

export class Quotas {
  constructor(
    private readonly engine: Engine,
    private readonly limits: Limits,
    private readonly volumeTypeNames: VolumeTypeNames = async () => [],
  ) {}

  /**
   * The QUOTA_* settings, with VOLUME_MAX_SIZE_GB as per_volume_gigabytes (Cinder's
   * per_volume_size_limit): what a resource is limited to with no row of its own.
   */
  configDefaults(): QuotaLimits {
    return { ...this.limits.quotas, per_volume_gigabytes: this.limits.maxVolumeSizeGiB };
  }

  /** Every resource name, in Cinder's order: the fixed ones, then per volume type. */
  async resources(): Promise<string[]> {
    const types = await this.volumeTypeNames();
    return [...QUOTA_RESOURCES, ...types.flatMap((t) => PER_TYPE_SHOWN.map((r) => perTypeResource(r, t)))];
  }

  /** What a new volume of `size` GiB of a type adds (its type's resources too): judged with its insert. */
  volumeDemand(projectId: string, size: number, volumeTypeId: string | null = null): QuotaDemand {
    return {
      projectId,
      reserving: 'volumes',
      size,
      deltas: { volumes: 1, gigabytes: size },
      volumeType: { id: volumeTypeId },
      volumeSize: size,
      defaults: this.configDefaults(),
    };
  }

  /**
   * What a new snapshot of a volume of `volumeSize` GiB adds (Cinder counts it in gigabytes), under
   * the volume's type as the transaction that inserts it reads it.
   */
  snapshotDemand(projectId: string, volumeId: string, volumeSize: number): QuotaDemand {
    return {
      projectId,
      reserving: 'snapshots',
      size: volumeSize,
      deltas: { snapshots: 1, gigabytes: volumeSize },
      volumeType: { ofVolume: volumeId },
      defaults: this.configDefaults(),
    };
  }

  /**
   * What growing a volume from `size` to `newSize` GiB adds: for an extend, handed to the volume
   * committer with its event (VolumeDelivery.quota) so it is judged in the same transaction.
   */
  extendDemand(projectId: string, size: number, newSize: number, volumeTypeId: string | null = null): QuotaDemand {
    return {
      projectId,
      reserving: 'volumes',
      size: newSize - size,
      deltas: { gigabytes: newSize - size },
      volumeType: { id: volumeTypeId },
      volumeSize: newSize,
      defaults: this.configDefaults(),
    };
  }

  /**
   * A retype moves the volume's usage (itself and its snapshots) to the new type: only the new
   * type's resources are judged (Cinder's get_volume_type_reservation, reserve_vol_type_only), in
   * the transaction that changes the type. The old type's share goes with the row.
   */
  retypeDemand(volume: { id: string; projectId: string; size: number }, toTypeId: string): QuotaDemand {
    return { projectId: volume.projectId, reserving: 'volumes', size: volume.size, deltas: {}, retype: { volumeId: volume.id, to: toTypeId }, defaults: this.configDefaults() };
  }

  /** The class `default` over the settings (cinder/quota.py get_defaults). */
  async defaults(): Promise<QuotaLimits> {
    const [resources, own] = await Promise.all([this.resources(), this.engine.store.readClassQuotas(DEFAULT_QUOTA_CLASS)]);
    return pick(resources, { ...this.configDefaults(), ...own }, -1);
  }

  /** A class's limits: its own rows, else the defaults (get_class_quotas). */
  async classLimits(className: string): Promise<QuotaLimits> {
    const [defaults, own] = await Promise.all([this.defaults(), this.engine.store.readClassQuotas(className)]);
    return { ...defaults, ...pickKnown(Object.keys(defaults), own) };
  }

  /** A project's limits: its rows, else the defaults (get_project_quotas). */
  async projectLimits(projectId: string): Promise<QuotaLimits> {
    const [defaults, own] = await Promise.all([this.defaults(), this.engine.store.readProjectQuotas(projectId)]);
    return { ...defaults, ...pickKnown(Object.keys(defaults), own) };
  }

  /** A project's limits with what it uses (in_use counted now; nothing is ever reserved). */
  async projectUsage(projectId: string): Promise<Record<string, QuotaUsageView>> {
    const [limits, usage] = await Promise.all([this.projectLimits(projectId), this.engine.store.readQuotaUsage(projectId)]);
    return Object.fromEntries(Object.entries(limits).map(([resource, limit]) => [resource, { limit, in_use: inUse(usage, resource), reserved: 0 }]));
  }

  /**
   * PUT os-quota-sets/{project}: every key must be a resource (or id/tenant_id, ignored), every
   * value an integer from -1; a limit the project already has a row for may not go below what it
   * uses (Cinder judges only those, defaults=False). Returns the project's limits after.
   */
  async updateProject(projectId: string, body: Record<string, unknown>): Promise<QuotaLimits> {
    const resources = new Set(await this.resources());
    const bad = Object.keys(body).filter((k) => !resources.has(k) && !NON_QUOTA_KEYS.has(k));
    if (bad.length > 0) throw new InvalidRequest(`Invalid input received: Bad key(s) in quota set: ${bad.join(', ')}`);
    const values: QuotaLimits = {};
    for (const [key, value] of Object.entries(body)) if (!NON_QUOTA_KEYS.has(key)) values[key] = integerFrom(value, key);
    const [own, usage] = await Promise.all([this.engine.store.readProjectQuotas(projectId), this.engine.store.readQuotaUsage(projectId)]);
    for (const [key, value] of Object.entries(values)) {
      if (key === 'per_volume_gigabytes' || value === -1 || !(key in own)) continue;
      const used = inUse(usage, key);
      if (value < used) {
        throw new InvalidRequest(
          `Quota ${key} limit must be equal or greater than existing resources. Current usage is ${used} and the requested limit is ${value}.`,
        );
      }
    }
    await this.engine.store.writeProjectQuotas(projectId, values, this.engine.clock());
    return this.projectLimits(projectId);
  }

  /** DELETE os-quota-sets/{project}: its rows go, it follows the defaults again. */
  deleteProject(projectId: string): Promise<void> {
    return this.engine.store.deleteProjectQuotas(projectId);
  }

  /** PUT os-quota-class-sets/{class}: every key must be a resource. Returns the class's limits after. */
  async updateClass(className: string, body: Record<string, unknown>): Promise<QuotaLimits> {
    const resources = new Set(await this.resources());
    const bad = Object.keys(body).filter((k) => !resources.has(k));
    if (bad.length > 0) throw new InvalidRequest(`Invalid input received: Bad key(s) in quota class set: ${bad.join(', ')}`);
    const values = Object.fromEntries(Object.entries(body).map(([key, value]) => [key, integerFrom(value, key)]));
    await this.engine.store.writeClassQuotas(className, values, this.engine.clock());
    return this.classLimits(className);
  }

  /** GET /limits: Cinder's absolute limits with the used ones (used_limits.py). */
  async absoluteLimits(projectId: string, withUsage: boolean): Promise<Record<string, number>> {
    const usage = await this.projectUsage(projectId);
    const absolute: Record<string, number> = {};
    for (const [resource, name] of Object.entries(LIMIT_NAMES)) if (usage[resource]) absolute[name] = usage[resource].limit;
    if (withUsage) for (const [name, resource] of Object.entries(USED_NAMES)) if (usage[resource]) absolute[name] = usage[resource].in_use;
    return absolute;
  }
}

/** cinder/api/views/limits.py _build_absolute_limits. */
const LIMIT_NAMES: Readonly<Record<string, string>> = {
  gigabytes: 'maxTotalVolumeGigabytes',
  backup_gigabytes: 'maxTotalBackupGigabytes',
  volumes: 'maxTotalVolumes',
  snapshots: 'maxTotalSnapshots',
  backups: 'maxTotalBackups',
};

/** cinder/api/contrib/used_limits.py quota_map. */
const USED_NAMES: Readonly<Record<string, string>> = {
  totalVolumesUsed: 'volumes',
  totalGigabytesUsed: 'gigabytes',
  totalSnapshotsUsed: 'snapshots',
  totalBackupsUsed: 'backups',
  totalBackupGigabytesUsed: 'backup_gigabytes',
};

/**
 * What a project uses of a resource (counted per type too). Backups and groups are not built
 * here, so none are in use; per_volume_gigabytes is a limit, not a count.
 */
function inUse(usage: QuotaUsage, resource: string): number {
  return usage[resource] ?? 0;
}

function pick(resources: readonly string[], values: QuotaLimits, fallback: number): QuotaLimits {
  return Object.fromEntries(resources.map((r) => [r, values[r] ?? fallback]));
}

/** Rows of resources that are no longer known (a deleted volume type's) are not shown. */
function pickKnown(resources: readonly string[], values: QuotaLimits): QuotaLimits {
  return Object.fromEntries(resources.filter((r) => r in values).map((r) => [r, values[r]]));
}

/** oslo's strutils.validate_integer(value, name, -1, DB_MAX_INT), with its messages. */
function integerFrom(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw new InvalidRequest(`${name} must be an integer`);
  if (n < -1) throw new InvalidRequest(`${name} must be >= -1`);
  if (n > DB_MAX_INT) throw new InvalidRequest(`${name} must be <= ${DB_MAX_INT}`);
  return n;
}

/**
 * Cinder's QuotaError for a refused create or retype (quota_utils.process_reserve_over_quota and
 * the per_volume_gigabytes limit check), as its FaultWrapper words it: the class name first. The
 * first resource over that Cinder recognises names the refusal (any gigabytes one, or the count
 * of what is reserved, per type or not); if none is, every one over is named as unexpected.
 */
export function overQuota(refusal: QuotaRefusal): OverLimit {
  if (refusal.kind === 'per_volume') {
    return new OverLimit(`VolumeSizeExceedsLimit: Requested volume size ${refusal.size}G is larger than maximum allowed limit ${refusal.limit}G.`);
  }
  for (const over of refusal.overs) {
    if (over.resource.includes('gigabytes')) {
      return new OverLimit(
        `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${over.resource} quota. Requested ${refusal.size}G, quota is ${over.limit}G and ${over.consumed}G has been consumed.`,
      );
    }
    if (over.resource.includes(refusal.reserving)) {
      return refusal.reserving === 'volumes'
        ? new OverLimit(`VolumeLimitExceeded: Maximum number of volumes allowed (${over.limit}) exceeded for quota '${over.resource}'.`)
        : new OverLimit(`SnapshotLimitExceeded: Maximum number of snapshots allowed (${over.limit}) exceeded`);
    }
  }
  return new OverLimit(`UnexpectedOverQuota: Unexpected over quota on ${refusal.overs.map((o) => o.resource).join(', ')}.`);
}
