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
import { InvalidRequest } from './errors.js';

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
  return {
    projectId: options.projectId,
    filters: where,
    orderBy,
    take: Math.min(options.limit ?? MAX_PAGE, MAX_PAGE),
    ...(options.offset !== undefined ? { offset: options.offset } : {}),
    ...(options.marker !== undefined ? { marker: options.marker } : {}),
  };
}

const markerNotFound = (marker: string | undefined) => new InvalidRequest(`Invalid input received: marker [${marker}] not found.`);

export async function listSnapshots(store: SnapshotStore, options: ListOptions) {
  const rows = await store.listSnapshots(page(options, snapshotColumns, snapshotFilters));
  if (!rows) throw markerNotFound(options.marker);
  return rows;
}

export async function listVolumes(store: SnapshotStore, options: ListOptions) {
  const rows = await store.listVolumes(page(options, volumeColumns, volumeFilters));
  if (!rows) throw markerNotFound(options.marker);
  return rows;
}
