// Quotas as Cinder keeps them: a project's own limit per resource (quotas), over the default
// quota class (quota_classes), over the QUOTA_* settings handed in by the caller.
//
// What is used is counted from the volumes and snapshots rows themselves, not kept in a usage
// table: a deleted row frees its share by being deleted, and there is no reservation to expire
// or usage to drift; per volume type the same rows are grouped by their type, so a retype moves
// a volume's usage (and its snapshots') by changing its column. A create is admitted in the transaction that inserts its row, after taking
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

/** The resources Cinder also keeps per volume type (`volumes_<type>`, ...), in add_volume_type_opts' order. */
export const PER_TYPE_RESOURCES = ['volumes', 'gigabytes', 'snapshots'] as const;
export type CountedResource = (typeof PER_TYPE_RESOURCES)[number];

/** A per-type resource's name (cinder/quota.py add_volume_type_opts). */
export const perTypeResource = (resource: CountedResource, typeName: string) => `${resource}_${typeName}`;

/**
 * What a project uses, counted from its live rows: `volumes`, `snapshots`, `gigabytes` (volume
 * sizes plus the sizes of the volumes snapshotted, as Cinder counts snapshots), and the same per
 * volume type (`volumes_<type>`, ...; a snapshot under its volume's type). A resource missing is 0.
 */
export type QuotaUsage = Record<string, number>;

export interface QuotaDemand {
  projectId: string;
  /** What the request reserves, as Cinder's process_reserve_over_quota is told (it words the refusal). */
  reserving: 'volumes' | 'snapshots';
  /** The size Cinder's refusal names (a volume's, or an extend's increase). */
  size: number;
  /** What the new row adds, in Cinder's reservation order (reserve_opts: the count first, then gigabytes). */
  deltas: Partial<Record<CountedResource, number>>;
  /**
   * The volume type whose per-type resources get the same deltas (add_volume_type_opts): by id, or
   * the type of a volume, read in the transaction (a snapshot counts under its volume's type).
   */
  volumeType?: { id: string | null } | { ofVolume: string };
  /**
   * A retype (quota_utils.get_volume_type_reservation with reserve_vol_type_only): the volume, with
   * its snapshots, moves to type `to`; only that type's resources are judged, from the rows read in
   * the transaction (the caller holds the volume row, so no snapshot of it appears meanwhile).
   */
  retype?: { volumeId: string; to: string };
  /** A volume's size after the change, judged against per_volume_gigabytes first. */
  volumeSize?: number;
  /** The limits of resources with neither a project row nor a default class row. */
  defaults: QuotaLimits;
}

/** One resource the demand would take past its limit (Cinder's `overs`, with what it had consumed). */
export interface QuotaOver {
  resource: string;
  limit: number;
  consumed: number;
}

export type QuotaRefusal =
  | { kind: 'per_volume'; size: number; limit: number }
  /** Every resource over, in the demand's order (Cinder words the first it recognises). */
  | { kind: 'over'; reserving: QuotaDemand['reserving']; size: number; overs: QuotaOver[] };

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
  const project = d.text(projectId);
  // Live volumes have live types (a type in use cannot be deleted), so a type's name is unique here.
  const [volumes, snapshots] = await Promise.all([
    q.query<{ type_name: string | null; n: unknown; gb: unknown }>(sql`
      SELECT t.name AS type_name, COUNT(*) AS n, COALESCE(SUM(v.size), 0) AS gb
      FROM volumes v LEFT JOIN volume_types t ON t.id = v.volume_type_id
      WHERE v.project_id = ${project} AND v.deleted = ${live}
      GROUP BY t.name`),
    q.query<{ type_name: string | null; n: unknown; gb: unknown }>(sql`
      SELECT t.name AS type_name, COUNT(*) AS n, COALESCE(SUM(s.volume_size), 0) AS gb
      FROM snapshots s LEFT JOIN volumes v ON v.id = s.volume_id LEFT JOIN volume_types t ON t.id = v.volume_type_id
      WHERE s.project_id = ${project} AND s.deleted = ${live}
      GROUP BY t.name`),
  ]);
  const usage: QuotaUsage = { volumes: 0, snapshots: 0, gigabytes: 0 };
  const add = (resource: string, n: number) => (usage[resource] = (usage[resource] ?? 0) + n);
  for (const [count, rows] of [['volumes', volumes], ['snapshots', snapshots]] as const) {
    for (const r of rows) {
      const n = asNumber(r.n);
      const gb = asNumber(r.gb);
      add(count, n);
      add('gigabytes', gb);
      if (r.type_name !== null) {
        add(perTypeResource(count, r.type_name), n);
        add(perTypeResource('gigabytes', r.type_name), gb);
      }
    }
  }
  return usage;
}

/** A type's name, a deleted one's too (Cinder reads it with inactive=True); null if there is none. */
async function typeName(tx: SqlRunner, d: Dialect, of: NonNullable<QuotaDemand['volumeType']>): Promise<string | null> {
  const rows =
    'id' in of
      ? of.id === null
        ? []
        : await tx.query<{ name: string }>(sql`SELECT name FROM volume_types WHERE id = ${d.text(of.id)}`)
      : await tx.query<{ name: string }>(sql`
          SELECT t.name FROM volumes v JOIN volume_types t ON t.id = v.volume_type_id WHERE v.id = ${d.text(of.ofVolume)}`);
  return rows[0]?.name ?? null;
}

/** Cinder's reservation deltas of a demand, in its order: reserve_opts, then the per-type copies. */
async function reservationDeltas(tx: SqlRunner, d: Dialect, demand: QuotaDemand): Promise<Array<[string, number]>> {
  if (demand.retype) {
    const [row] = await tx.query<{ size: unknown; n: unknown; gb: unknown }>(sql`
      SELECT v.size AS size,
        (SELECT COUNT(*) FROM snapshots s WHERE s.volume_id = v.id AND s.deleted = ${d.boolean(false)}) AS n,
        (SELECT COALESCE(SUM(s.volume_size), 0) FROM snapshots s WHERE s.volume_id = v.id AND s.deleted = ${d.boolean(false)}) AS gb
      FROM volumes v WHERE v.id = ${d.text(demand.retype.volumeId)}`);
    const name = await typeName(tx, d, { id: demand.retype.to });
    if (!row || name === null) return [];
    const snapshots = asNumber(row.n);
    const deltas: Array<[string, number]> = [
      [perTypeResource('volumes', name), 1],
      [perTypeResource('gigabytes', name), asNumber(row.size) + asNumber(row.gb)],
    ];
    if (snapshots > 0) deltas.push([perTypeResource('snapshots', name), snapshots]);
    return deltas;
  }
  const deltas = Object.entries(demand.deltas) as Array<[CountedResource, number]>;
  const name = demand.volumeType ? await typeName(tx, d, demand.volumeType) : null;
  if (name === null) return deltas;
  const perType = PER_TYPE_RESOURCES.filter((r) => demand.deltas[r] !== undefined).map((r): [string, number] => [perTypeResource(r, name), demand.deltas[r]!]);
  return [...deltas, ...perType];
}

/** Cinder's judgement of one demand's deltas against limits and what is already used. */
export function judge(demand: QuotaDemand, deltas: ReadonlyArray<readonly [string, number]>, limits: QuotaLimits, usage: QuotaUsage): QuotaRefusal | null {
  const perVolume = limits.per_volume_gigabytes ?? -1;
  if (demand.volumeSize !== undefined && perVolume >= 0 && demand.volumeSize > perVolume) {
    return { kind: 'per_volume', size: demand.volumeSize, limit: perVolume };
  }
  const overs: QuotaOver[] = [];
  for (const [resource, delta] of deltas) {
    const limit = limits[resource] ?? -1;
    const consumed = usage[resource] ?? 0;
    // Only growth is judged: a project already over a lowered limit may still shrink.
    if (limit >= 0 && delta > 0 && limit < consumed + delta) overs.push({ resource, limit, consumed });
  }
  return overs.length > 0 ? { kind: 'over', reserving: demand.reserving, size: demand.size, overs } : null;
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
  const refusals: Array<QuotaRefusal | null> = [];
  for (const demand of demands) {
    const s = state.get(demand.projectId)!;
    const deltas = await reservationDeltas(tx, d, demand);
    const refusal = judge(demand, deltas, s.limits, s.usage);
    if (!refusal) for (const [resource, delta] of deltas) s.usage[resource] = (s.usage[resource] ?? 0) + delta;
    refusals.push(refusal);
  }
  return refusals;
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
