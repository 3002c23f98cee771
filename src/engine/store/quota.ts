// Quotas as Cinder keeps them: a project's own limit per resource (quotas), over the default
// quota class (quota_classes), over the QUOTA_* settings handed in by the caller.
//
// What is used is counted from the volumes and snapshots rows themselves, not kept in a usage
// table: a deleted row frees its share by being deleted, and there is no reservation to expire
// or usage to drift. A create is admitted in the transaction that inserts its row, after taking
// the project's quota turn (PostgreSQL: a transaction-scoped advisory lock; SQLite: its write
// transaction already serialises every writer), so the count it judges cannot miss a row that a
// concurrent create is inserting: two creates never both pass the last unit.
//
// Lock order: a transaction that also holds volume rows (a snapshot batch's volume guards, a
// volume step) takes them before the quota turn, and a volume create takes no volume row, so the
// two kinds of lock never wait on each other in opposite orders.
import type { SqlRunner } from '../../db/sql.js';
import { asNumber } from '../../db/sql.js';
import { type Dialect, join, raw, sql } from './dialect.js';

/** Cinder's resources (cinder/quota.py QUOTAS and GROUP_QUOTAS), in its order. */
export const QUOTA_RESOURCES = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** resource -> hard limit; -1 is unlimited. */
export type QuotaLimits = Record<string, number>;

/** The quota class Cinder applies to every project (use_default_quota_class). */
export const DEFAULT_QUOTA_CLASS = 'default';

/** What a project uses, counted from its live rows. */
export interface QuotaUsage {
  volumes: number;
  snapshots: number;
  /** Volume sizes plus the sizes of the volumes snapshotted (Cinder counts snapshots in gigabytes). */
  gigabytes: number;
}

export interface QuotaDemand {
  projectId: string;
  /** What the new row adds, in Cinder's reservation order (the count first, then gigabytes). */
  deltas: Partial<Record<'volumes' | 'snapshots' | 'gigabytes', number>>;
  /** A volume's size after the change, judged against per_volume_gigabytes first. */
  volumeSize?: number;
  /** The limits of resources with neither a project row nor a default class row. */
  defaults: QuotaLimits;
}

export type QuotaRefusal =
  | { kind: 'per_volume'; size: number; limit: number }
  | { kind: 'over'; resource: 'volumes' | 'snapshots' | 'gigabytes'; requested: number; limit: number; consumed: number };

/** A class's own rows (resource -> limit). */
export async function readClassLimits(q: SqlRunner, d: Dialect, className: string): Promise<QuotaLimits> {
  const rows = await q.query<{ resource: string; hard_limit: unknown }>(sql`
    SELECT resource, hard_limit FROM quota_classes WHERE class_name = ${d.text(className)}`);
  return Object.fromEntries(rows.map((r) => [r.resource, asNumber(r.hard_limit)]));
}

/** A project's own rows (resource -> limit). */
export async function readProjectLimits(q: SqlRunner, d: Dialect, projectId: string): Promise<QuotaLimits> {
  const rows = await q.query<{ resource: string; hard_limit: unknown }>(sql`
    SELECT resource, hard_limit FROM quotas WHERE project_id = ${d.text(projectId)}`);
  return Object.fromEntries(rows.map((r) => [r.resource, asNumber(r.hard_limit)]));
}

/** The limits that apply to a project: its rows, else the default class's, else `defaults`. */
export async function effectiveLimits(q: SqlRunner, d: Dialect, projectId: string, defaults: QuotaLimits): Promise<QuotaLimits> {
  const [classLimits, own] = await Promise.all([readClassLimits(q, d, DEFAULT_QUOTA_CLASS), readProjectLimits(q, d, projectId)]);
  return { ...defaults, ...classLimits, ...own };
}

export async function readUsage(q: SqlRunner, d: Dialect, projectId: string): Promise<QuotaUsage> {
  const live = d.boolean(false);
  const [row] = await q.query<Record<string, unknown>>(sql`
    SELECT
      (SELECT COUNT(*) FROM volumes WHERE project_id = ${d.text(projectId)} AND deleted = ${live}) AS volumes,
      (SELECT COALESCE(SUM(size), 0) FROM volumes WHERE project_id = ${d.text(projectId)} AND deleted = ${live}) AS volume_gb,
      (SELECT COUNT(*) FROM snapshots WHERE project_id = ${d.text(projectId)} AND deleted = ${live}) AS snapshots,
      (SELECT COALESCE(SUM(volume_size), 0) FROM snapshots WHERE project_id = ${d.text(projectId)} AND deleted = ${live}) AS snapshot_gb`);
  return {
    volumes: asNumber(row.volumes),
    snapshots: asNumber(row.snapshots),
    gigabytes: asNumber(row.volume_gb) + asNumber(row.snapshot_gb),
  };
}

/** Cinder's judgement of one demand against limits and what is already used. */
export function judge(demand: QuotaDemand, limits: QuotaLimits, usage: QuotaUsage): QuotaRefusal | null {
  const perVolume = limits.per_volume_gigabytes ?? -1;
  if (demand.volumeSize !== undefined && perVolume >= 0 && demand.volumeSize > perVolume) {
    return { kind: 'per_volume', size: demand.volumeSize, limit: perVolume };
  }
  for (const [resource, delta] of Object.entries(demand.deltas) as Array<[keyof QuotaUsage, number]>) {
    const limit = limits[resource] ?? -1;
    // Only growth is judged: a project already over a lowered limit may still shrink.
    if (limit >= 0 && delta > 0 && limit < usage[resource] + delta) {
      return { kind: 'over', resource, requested: delta, limit, consumed: usage[resource] };
    }
  }
  return null;
}

/**
 * Judges each demand in order, inside the caller's transaction, after taking each project's quota
 * turn (in one order, so two batches never wait on each other crosswise). An admitted demand
 * counts against the ones after it; the caller inserts exactly the admitted rows before commit.
 */
export async function admitQuotas(tx: SqlRunner, d: Dialect, demands: readonly QuotaDemand[]): Promise<Array<QuotaRefusal | null>> {
  const projects = [...new Set(demands.map((x) => x.projectId))].sort();
  const state = new Map<string, { limits: QuotaLimits; usage: QuotaUsage }>();
  for (const projectId of projects) {
    const lock = d.transactionLock(`quota:${projectId}`);
    if (lock) await tx.execute(lock);
    const first = demands.find((x) => x.projectId === projectId)!;
    const [limits, usage] = [await effectiveLimits(tx, d, projectId, first.defaults), await readUsage(tx, d, projectId)];
    state.set(projectId, { limits, usage });
  }
  return demands.map((demand) => {
    const s = state.get(demand.projectId)!;
    const refusal = judge(demand, s.limits, s.usage);
    if (!refusal) for (const [resource, delta] of Object.entries(demand.deltas) as Array<[keyof QuotaUsage, number]>) s.usage[resource] += delta;
    return refusal;
  });
}

/** Sets a project's (or a class's) limits: one upsert per resource. */
export async function writeLimits(
  q: SqlRunner,
  d: Dialect,
  table: 'quotas' | 'quota_classes',
  ownerId: string,
  limits: QuotaLimits,
  now: Date,
): Promise<void> {
  const entries = Object.entries(limits);
  if (entries.length === 0) return;
  const owner = table === 'quotas' ? 'project_id' : 'class_name';
  const rows = entries.map(([resource, limit]) => sql`(${join([d.text(ownerId), d.text(resource), d.integer(limit), d.timestamp(now), d.timestamp(now)])})`);
  await q.execute(sql`
    INSERT INTO ${rawIdent(table)} (${rawIdent(owner)}, resource, hard_limit, created_at, updated_at) VALUES ${join(rows)}
    ON CONFLICT (${rawIdent(owner)}, resource) DO UPDATE SET hard_limit = excluded.hard_limit, updated_at = excluded.updated_at`);
}

/** Removes a project's own limits: it follows the default class again. */
export async function deleteProjectLimits(q: SqlRunner, d: Dialect, projectId: string): Promise<void> {
  await q.execute(sql`DELETE FROM quotas WHERE project_id = ${d.text(projectId)}`);
}

/** The table and column names above are constants of this file, never input. */
const rawIdent = (name: 'quotas' | 'quota_classes' | 'project_id' | 'class_name') => raw(name);
