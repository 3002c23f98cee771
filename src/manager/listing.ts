// Collection reads with Cinder's paging: sort keys (created_at desc by default), `limit`, and a
// `marker` naming the last item of the previous page. Every sort ends with the id, so pages are
// stable even when timestamps tie. Cinder's names are translated to columns here; the store
// reads the page.
import type {
  SnapshotFilterColumn,
  SnapshotSortColumn,
  SnapshotStore,
  VolumeFilterColumn,
  VolumeSortColumn,
} from '../engine/store/index.js';
import { InvalidRequest, NotFound } from './errors.js';

export interface ListOptions {
  /** null: every project (admin with all_tenants). */
  projectId: string | null;
  filters: Record<string, string>;
  limit?: number;
  offset?: number;
  marker?: string;
  sort: Array<{ key: string; dir: 'asc' | 'desc' }>;
}

/** Largest page a caller gets, as Cinder's osapi_max_limit. */
export const MAX_PAGE = 1000;

const snapshotColumns: Record<string, SnapshotSortColumn> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  id: 'id',
  status: 'status',
  name: 'name',
  display_name: 'name',
  volume_id: 'volumeId',
  project_id: 'projectId',
  size: 'volumeSize',
};
const volumeColumns: Record<string, VolumeSortColumn> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  id: 'id',
  status: 'status',
  name: 'name',
  display_name: 'name',
  size: 'size',
  project_id: 'projectId',
};
const snapshotFilters: Record<string, SnapshotFilterColumn> = { status: 'status', volume_id: 'volumeId', name: 'name', display_name: 'name', project_id: 'projectId' };
const volumeFilters: Record<string, VolumeFilterColumn> = { status: 'status', name: 'name', display_name: 'name', project_id: 'projectId' };

/** The one availability zone this service has (the views say so too). */
export const AVAILABILITY_ZONE = 'nova';

/**
 * Cinder's `metadata` filter: a dict literal in the query string, e.g. `{'Type': 'work'}` (Python's
 * repr, which Tempest and cinderclient send; Cinder reads it with ast.literal_eval) or JSON.
 */
export function parseMetadataFilter(text: string): Record<string, string> {
  const invalid = () => new InvalidRequest(`Invalid input received: metadata filter ${text} is not a dict of strings.`);
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw invalid();
  const out: Record<string, string> = {};
  const inner = body.slice(1, -1).trim();
  if (inner === '') return out;
  // Quoted strings in either quote; a backslash escapes the next character.
  const str = String.raw`(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")`;
  const pair = new RegExp(String.raw`^\s*${str}\s*:\s*${str}\s*(?:,|$)`);
  let rest = inner;
  while (rest.trim() !== '') {
    const m = pair.exec(rest);
    if (!m) throw invalid();
    const unescape = (t: string) => t.replace(/\\(.)/g, '$1');
    out[unescape(m[1] ?? m[2]!)] = unescape(m[3] ?? m[4]!);
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** Cinder's bool_from_string as its volume filter applies it to `bootable`. */
function parseBootable(value: string): boolean {
  return ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase());
}

function page<S extends string, F extends string>(options: ListOptions, columns: Record<string, S>, filters: Record<string, F>) {
  const where: Partial<Record<F, string>> = {};
  for (const [key, value] of Object.entries(options.filters)) {
    // Own keys only: `?constructor=x` must not find Object.prototype.constructor.
    const column = Object.hasOwn(filters, key) ? filters[key] : undefined;
    // Cinder ignores filters it does not know; so do we. A caller limited to its own project
    // cannot widen that with a project_id filter.
    if (column && !(column === 'projectId' && options.projectId !== null)) where[column] = value;
  }
  const sort = options.sort.length > 0 ? options.sort : [{ key: 'created_at', dir: 'desc' as const }];
  const orderBy = sort.map((s) => {
    const column = Object.hasOwn(columns, s.key) ? columns[s.key] : undefined;
    if (!column) throw new InvalidRequest(`Invalid input received: sort key ${s.key} is not supported.`);
    return { column, dir: s.dir };
  });
  if (!sort.some((s) => s.key === 'id')) orderBy.push({ column: 'id' as S, dir: sort.at(-1)!.dir });
  const metadata = Object.hasOwn(options.filters, 'metadata') ? parseMetadataFilter(options.filters.metadata!) : undefined;
  return {
    projectId: options.projectId,
    filters: where,
    orderBy,
    take: Math.min(options.limit ?? MAX_PAGE, MAX_PAGE),
    ...(options.offset !== undefined ? { offset: options.offset } : {}),
    ...(options.marker !== undefined ? { marker: options.marker } : {}),
    ...(metadata ? { metadata } : {}),
  };
}

/** Volumes add filters on columns that are not text (bootable) and on what every volume shares (the zone). */
function volumePage(options: ListOptions) {
  const base = page(options, volumeColumns, volumeFilters);
  const f = options.filters;
  return {
    ...base,
    ...(Object.hasOwn(f, 'bootable') ? { bootable: parseBootable(f.bootable!) } : {}),
    ...(Object.hasOwn(f, 'availability_zone') && f.availability_zone !== AVAILABILITY_ZONE ? { matchesNothing: true } : {}),
  };
}

/** As Cinder's: the marker is looked up like any row of the collection, and is not found (404) otherwise. */
const markerNotFound = (resource: string, marker: string | undefined) => new NotFound(`${resource} ${marker} could not be found.`);

export async function listSnapshots(store: SnapshotStore, options: ListOptions) {
  const rows = await store.listSnapshots(page(options, snapshotColumns, snapshotFilters));
  if (!rows) throw markerNotFound('Snapshot', options.marker);
  return rows;
}

export async function listVolumes(store: SnapshotStore, options: ListOptions) {
  const rows = await store.listVolumes(volumePage(options));
  if (!rows) throw markerNotFound('Volume', options.marker);
  return rows;
}

/** The whole collection's size under the same filters (paging aside): Cinder's `count`. */
export function countSnapshots(store: SnapshotStore, options: ListOptions) {
  return store.countSnapshots(page(options, snapshotColumns, snapshotFilters));
}

export function countVolumes(store: SnapshotStore, options: ListOptions) {
  return store.countVolumes(volumePage(options));
}

/** Cinder's volume summary of one project (null: every project, an admin's all_tenants). */
export function volumeSummary(store: SnapshotStore, projectId: string | null) {
  return store.readVolumeSummary(projectId);
}
