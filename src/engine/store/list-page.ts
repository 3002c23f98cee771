// One page of a collection (live rows only), filtered by equality, in the order given, after a
// marker row or an offset. The API's vocabulary (Cinder's sort keys and filters) is the manager's;
// here are columns only.
import type { PrismaClient } from '../../db/client.js';
import { VOLUME_VIEW_INCLUDE, type SnapshotWithMetadata, type VolumeWithAttachments } from './rows.js';

/** Columns a page can be sorted by, and (text columns) filtered on. */
export type SnapshotSortColumn = 'createdAt' | 'updatedAt' | 'id' | 'status' | 'name' | 'volumeId' | 'projectId' | 'volumeSize';
export type SnapshotFilterColumn = 'status' | 'name' | 'volumeId' | 'projectId';
export type VolumeSortColumn = 'createdAt' | 'updatedAt' | 'id' | 'status' | 'name' | 'size' | 'projectId';
export type VolumeFilterColumn = 'status' | 'name' | 'projectId';

export interface PageQuery<Sort extends string, Filter extends string> {
  /** null: every project. */
  projectId: string | null;
  /** Column = value, all of them. */
  filters: Partial<Record<Filter, string>>;
  /** Should end with the id, so pages are stable when other columns tie. */
  orderBy: Array<{ column: Sort; dir: 'asc' | 'desc' }>;
  take: number;
  offset?: number;
  /** The last row of the previous page; wins over `offset`. */
  marker?: string;
  /** Rows whose live user metadata holds every one of these pairs. */
  metadata?: Record<string, string>;
  /** Volumes only: Cinder's bootable flag. */
  bootable?: boolean;
  /** A filter no row can match (e.g. another availability zone): the page is empty. */
  matchesNothing?: boolean;
}

export type SnapshotPageQuery = PageQuery<SnapshotSortColumn, SnapshotFilterColumn>;
export type VolumePageQuery = PageQuery<VolumeSortColumn, VolumeFilterColumn>;

function prismaWhere<S extends string, F extends string>(q: PageQuery<S, F>) {
  return {
    deleted: false,
    ...(q.projectId !== null ? { projectId: q.projectId } : {}),
    ...q.filters,
    ...(q.bootable !== undefined ? { bootable: q.bootable } : {}),
    // An id no row has: one query shape whether or not a filter can match.
    ...(q.matchesNothing ? { id: { in: [] as string[] } } : {}),
    ...(q.metadata && Object.keys(q.metadata).length > 0
      ? { AND: Object.entries(q.metadata).map(([key, value]) => ({ metadata: { some: { key, value, deleted: false } } })) }
      : {}),
  };
}

function prismaPage<S extends string, F extends string>(q: PageQuery<S, F>) {
  const orderBy = q.orderBy.map((o) => ({ [o.column]: o.dir }));
  return { where: prismaWhere(q), orderBy, take: q.take };
}

/** How many rows the collection holds under the page's filters (Cinder's `count`, 3.45). */
export function countSnapshotRows(prisma: PrismaClient, q: SnapshotPageQuery): Promise<number> {
  return prisma.snapshot.count({ where: prismaWhere(q) });
}

export function countVolumeRows(prisma: PrismaClient, q: VolumePageQuery): Promise<number> {
  return prisma.volume.count({ where: prismaWhere(q) });
}

/** The rows after the marker (or from the offset); null when the marker names no row of the collection. */
async function afterMarker<T>(
  q: PageQuery<string, string>,
  find: (cursor: { cursor?: { id: string }; skip?: number }) => Promise<T[]>,
  exists: (id: string) => Promise<boolean>,
): Promise<T[] | null> {
  if (q.marker) {
    if (!(await exists(q.marker))) return null;
    return find({ cursor: { id: q.marker }, skip: 1 });
  }
  return find(q.offset ? { skip: q.offset } : {});
}

/** Snapshots with their live user metadata. */
export function listSnapshotPage(prisma: PrismaClient, q: SnapshotPageQuery): Promise<SnapshotWithMetadata[] | null> {
  const { where, orderBy, take } = prismaPage(q);
  return afterMarker(
    q,
    (c) => prisma.snapshot.findMany({ where, orderBy, take, ...c, include: { metadata: { where: { deleted: false } } } }),
    async (id) => (await prisma.snapshot.count({ where: { ...where, id } })) === 1,
  );
}

/** Volumes with their live attachments. */
export function listVolumePage(prisma: PrismaClient, q: VolumePageQuery): Promise<VolumeWithAttachments[] | null> {
  const { where, orderBy, take } = prismaPage(q);
  return afterMarker(
    q,
    (c) => prisma.volume.findMany({ where, orderBy, take, ...c, include: VOLUME_VIEW_INCLUDE }),
    async (id) => (await prisma.volume.count({ where: { ...where, id } })) === 1,
  );
}
