// Collection reads with Cinder's paging: sort keys (created_at desc by default), `limit`, and a
// `marker` naming the last item of the previous page. Every sort ends with the id, so pages are
// stable even when timestamps tie.
import type { PrismaClient } from '../db/client.js';
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

const snapshotColumns: Record<string, string> = {
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
const volumeColumns: Record<string, string> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  id: 'id',
  status: 'status',
  name: 'name',
  display_name: 'name',
  size: 'size',
  project_id: 'projectId',
};
const snapshotFilters: Record<string, string> = { status: 'status', volume_id: 'volumeId', name: 'name', display_name: 'name', project_id: 'projectId' };
const volumeFilters: Record<string, string> = { status: 'status', name: 'name', display_name: 'name', project_id: 'projectId' };

function page(options: ListOptions, columns: Record<string, string>, filters: Record<string, string>) {
  const where: Record<string, unknown> = { deleted: false };
  if (options.projectId !== null) where.projectId = options.projectId;
  for (const [key, value] of Object.entries(options.filters)) {
    const column = filters[key];
    // Cinder ignores filters it does not know; so do we.
    if (column && !(column === 'projectId' && options.projectId !== null)) where[column] = value;
  }
  const sort = options.sort.length > 0 ? options.sort : [{ key: 'created_at', dir: 'desc' as const }];
  const orderBy = sort.map((s) => {
    const column = columns[s.key];
    if (!column) throw new InvalidRequest(`Invalid input received: sort key ${s.key} is not supported.`);
    return { [column]: s.dir };
  });
  if (!sort.some((s) => s.key === 'id')) orderBy.push({ id: sort.at(-1)!.dir });
  const take = Math.min(options.limit ?? MAX_PAGE, MAX_PAGE);
  return { where, orderBy, take };
}

async function withMarker<T>(options: ListOptions, find: (cursor: { cursor?: { id: string }; skip?: number }) => Promise<T[]>, exists: (id: string) => Promise<boolean>) {
  if (options.marker) {
    if (!(await exists(options.marker))) throw new InvalidRequest(`Invalid input received: marker [${options.marker}] not found.`);
    return find({ cursor: { id: options.marker }, skip: 1 });
  }
  return find(options.offset ? { skip: options.offset } : {});
}

export async function listSnapshots(prisma: PrismaClient, options: ListOptions) {
  const { where, orderBy, take } = page(options, snapshotColumns, snapshotFilters);
  return withMarker(
    options,
    (c) => prisma.snapshot.findMany({ where, orderBy, take, ...c, include: { metadata: { where: { deleted: false } } } }),
    async (id) => (await prisma.snapshot.count({ where: { ...where, id } })) === 1,
  );
}

export async function listVolumes(prisma: PrismaClient, options: ListOptions) {
  const { where, orderBy, take } = page(options, volumeColumns, volumeFilters);
  return withMarker(
    options,
    (c) => prisma.volume.findMany({ where, orderBy, take, ...c, include: { attachments: { where: { deleted: false } } } }),
    async (id) => (await prisma.volume.count({ where: { ...where, id } })) === 1,
  );
}
