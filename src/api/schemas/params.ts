/**
 * Query-string and path parameters of the list endpoints, with Cinder's messages where it has
 * them (cinder/api/common.py: get_pagination_params, get_sort_params; utils.get_bool_param).
 * Use with `parseQuery(c, schema)` / `parseUuidParam(c, name, resource)` from src/http/validation.
 */
import toRegexRange from 'to-regex-range';
import * as z from 'zod';
import { CINDER_BOOLEAN_STRINGS, parseCinderBoolean, uuidSchema } from './common.js';

const MAX_PAGE_PARAM = 0x7fffffff;

/**
 * Three patterns, one per Cinder message, checked in order (the first failure is the one
 * answered); as patterns they are also the OpenAPI document's. "-0" is 0, as int() has it.
 */
const nonNegativeInt = (name: string) =>
  z
    .string()
    .regex(/^-?[0-9]+$/, { error: `${name} param must be an integer` })
    .regex(/^(?:-0+|[0-9]+)$/, { error: `${name} param must be positive` })
    .regex(new RegExp(`^(?:-0+|0*${toRegexRange(0, MAX_PAGE_PARAM)})$`), { error: `${name} param is too large` })
    .transform(Number);

export const queryBoolean = (name: string) =>
  z.enum(CINDER_BOOLEAN_STRINGS, { error: `Value for '${name}' is not a boolean.` }).transform((v) => parseCinderBoolean(v) as boolean);

export type SortDir = 'asc' | 'desc';
export interface SortSpec<K extends string = string> {
  key: K;
  dir: SortDir;
}

const KNOWN = ['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'with_count'] as const;

/**
 * Paging, sorting and `all_tenants` for a collection; every other parameter is handed on as a
 * string filter (Cinder filters on them or ignores them, it does not refuse them).
 * `sortKeys` is the whitelist of sortable fields; the first sort defaults to `created_at desc`.
 */
export function listQuerySchema<const K extends string>(sortKeys: readonly [K, ...K[]]) {
  // The grammar the parse below accepts, for the document: "key[:dir],..." with blanks around
  // each part; a missing direction is "desc". No two parts can match the same blank.
  const item = `\\s*(?:${sortKeys.join('|')})\\s*(?::\\s*(?:(?:asc|desc)\\s*)?)?`;
  const sortPattern = `^${item}(?:,${item})*$`;
  const sortKeyMessage = `sort key must be one of ${sortKeys.join(', ')}`;
  const dir = z.enum(['asc', 'desc'], { error: "sort direction must be 'asc' or 'desc'" });
  const key = z.enum(sortKeys, { error: sortKeyMessage });

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
              // Cinder's str.partition(':'): everything after the first colon is the direction.
              const colon = part.indexOf(':');
              const k = colon === -1 ? part : part.slice(0, colon);
              const d = colon === -1 ? '' : part.slice(colon + 1);
              return { key: k.trim(), dir: d.trim() || 'desc' };
            }),
        )
        .pipe(z.array(z.object({ key, dir })).min(1))
        .meta({ pattern: sortPattern })
        .optional(),
      sort_key: key.optional(),
      sort_dir: dir.optional(),
      all_tenants: queryBoolean('all_tenants').optional(),
      // Only from microversion 3.45 (the route asks microversions.ts).
      with_count: queryBoolean('with_count').optional(),
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
        withCount: q.with_count ?? false,
        filters,
      };
    });
}

// `display_name` is the column's name, which Cinder's sort takes too (Tempest sorts by it).
export const SNAPSHOT_SORT_KEYS = [
  'created_at',
  'updated_at',
  'id',
  'name',
  'display_name',
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
  'display_name',
  'status',
  'size',
  'availability_zone',
  'project_id',
] as const;

export const snapshotListQuerySchema = listQuerySchema(SNAPSHOT_SORT_KEYS);
export const volumeListQuerySchema = listQuerySchema(VOLUME_SORT_KEYS);
export type SnapshotListQuery = z.output<typeof snapshotListQuerySchema>;
export type VolumeListQuery = z.output<typeof volumeListQuerySchema>;

/** GET /volumes/summary: only `all_tenants` counts; other parameters are ignored, as Cinder ignores unknown filters. */
export const volumeSummaryQuerySchema = z
  .looseObject({ all_tenants: queryBoolean('all_tenants').optional() })
  .transform((q) => ({ allTenants: q.all_tenants ?? false }));

/** DELETE /volumes/{id}: Cinder's `cascade` (utils.get_bool_param); other parameters are ignored, as Cinder ignores them. */
export const volumeDeleteQuerySchema = z.looseObject({ cascade: queryBoolean('cascade').optional() });

/** GET transfers: `all_tenants` for an admin; Cinder's paging of transfers is not served (the whole list is answered). */
export const transferListQuerySchema = z.looseObject({ all_tenants: queryBoolean('all_tenants').optional() });
