/**
 * Query-string and path parameters of the list endpoints, with Cinder's messages where it has
 * them (cinder/api/common.py: get_pagination_params, get_sort_params; utils.get_bool_param).
 * Use with `parseQuery(c, schema)` / `parseUuidParam(c, name, resource)` from src/http/validation.
 */
import * as z from 'zod';
import { parseCinderBoolean, uuidSchema } from './common.js';

const nonNegativeInt = (name: string) =>
  z
    .string()
    .regex(/^-?[0-9]+$/, { error: `${name} param must be an integer` })
    .transform(Number)
    .refine((n) => n >= 0, { error: `${name} param must be positive` })
    .refine((n) => n <= 0x7fffffff, { error: `${name} param is too large` });

const queryBoolean = (name: string) =>
  z
    .string()
    .refine((v) => parseCinderBoolean(v) !== undefined, { error: `Value for '${name}' is not a boolean.` })
    .transform((v) => parseCinderBoolean(v) as boolean);

export type SortDir = 'asc' | 'desc';
export interface SortSpec<K extends string = string> {
  key: K;
  dir: SortDir;
}

const KNOWN = ['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants'] as const;

/**
 * Paging, sorting and `all_tenants` for a collection; every other parameter is handed on as a
 * string filter (Cinder filters on them or ignores them, it does not refuse them).
 * `sortKeys` is the whitelist of sortable fields; the first sort defaults to `created_at desc`.
 */
export function listQuerySchema<const K extends string>(sortKeys: readonly [K, ...K[]]) {
  const allowed: ReadonlySet<string> = new Set(sortKeys);
  const sortKeyMessage = `sort key must be one of ${sortKeys.join(', ')}`;
  const dir = z.enum(['asc', 'desc'], { error: "sort direction must be 'asc' or 'desc'" });
  const key = z.string().refine((k) => allowed.has(k), { error: sortKeyMessage });

  return z
    .looseObject({
      limit: nonNegativeInt('limit').optional(),
      offset: nonNegativeInt('offset').optional(),
      marker: uuidSchema.optional(),
      sort: z
        .string()
        .transform((s) =>
          s
            .trim()
            .split(',')
            .map((part) => {
              const [k = '', d = ''] = part.split(':', 2);
              return { key: k.trim(), dir: d.trim() || 'desc' };
            }),
        )
        .pipe(z.array(z.object({ key, dir })).min(1))
        .optional(),
      sort_key: key.optional(),
      sort_dir: dir.optional(),
      all_tenants: queryBoolean('all_tenants').optional(),
    })
    .refine((q) => q.sort === undefined || (q.sort_key === undefined && q.sort_dir === undefined), {
      error:
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    })
    .transform((q) => {
      const filters: Record<string, string> = {};
      for (const [name, value] of Object.entries(q)) {
        if (!(KNOWN as readonly string[]).includes(name) && typeof value === 'string') filters[name] = value;
      }
      const sort: SortSpec<K>[] = q.sort
        ? (q.sort as SortSpec<K>[])
        : [{ key: (q.sort_key ?? 'created_at') as K, dir: q.sort_dir ?? 'desc' }];
      return {
        limit: q.limit,
        offset: q.offset ?? 0,
        marker: q.marker,
        sort,
        allTenants: q.all_tenants ?? false,
        filters,
      };
    });
}

export const SNAPSHOT_SORT_KEYS = [
  'created_at',
  'updated_at',
  'id',
  'name',
  'status',
  'size',
  'volume_id',
  'project_id',
] as const;
export const VOLUME_SORT_KEYS = [
  'created_at',
  'updated_at',
  'id',
  'name',
  'status',
  'size',
  'availability_zone',
  'project_id',
] as const;

export const snapshotListQuerySchema = listQuerySchema(SNAPSHOT_SORT_KEYS);
export const volumeListQuerySchema = listQuerySchema(VOLUME_SORT_KEYS);
export type SnapshotListQuery = z.output<typeof snapshotListQuerySchema>;
export type VolumeListQuery = z.output<typeof volumeListQuerySchema>;
