/**
 * Quota request bodies and queries (cinder/api/schemas/quotas.py, quota_classes.py and
 * parameter_types.quota_class_set). Which keys are resources depends on the volume types, so the
 * manager judges the keys (Cinder's format checkers do it there too, with the same messages).
 */
import toRegexRange from 'to-regex-range';
import * as z from 'zod';
import { queryBoolean } from './params.js';
import { DB_MAX_INT } from './volumes.js';

/** Cinder's resources (cinder/quota.py), each a key a quota set or class may carry. */
const FIXED_RESOURCES = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups'] as const;

/**
 * A limit: an integer from -1 (unlimited) to DB_MAX_INT, or a string of one (cinderclient sends
 * integers; Cinder's checks take both). The string's bound is a pattern, so the document states it.
 */
const limitValue = z.union([z.int().min(-1).max(DB_MAX_INT), z.string().regex(new RegExp(`^(?:-1|0*${toRegexRange(0, DB_MAX_INT)})$`))], {
  error: `must be an integer from -1 to ${DB_MAX_INT}`,
});

/**
 * The keys a set may carry, each with a limit: the fixed resources, and per volume type
 * `volumes_<type>`, `snapshots_<type>`, `gigabytes_<type>` (Cinder's patternProperties take any
 * name). Which types exist is the database's, so the manager judges the other keys as Cinder's
 * format checkers do ("Bad key(s) in quota set: ...", 400).
 */
function limitsRecord(extra: Record<string, z.ZodType> = {}) {
  return z.object({ ...Object.fromEntries(FIXED_RESOURCES.map((r) => [r, limitValue.optional()])), ...extra }).catchall(limitValue);
}

/** PUT os-quota-sets/{project_id} (schemas/quotas.py update): at least one key; `id` and `tenant_id` are ignored. */
export const quotaSetUpdateSchema = z.strictObject({
  quota_set: limitsRecord({ id: z.string().optional(), tenant_id: z.string().optional() }).refine((o) => Object.keys(o).length >= 1, {
    error: 'quota_set must have at least 1 property',
  }),
});

/** PUT os-quota-class-sets/{class_name} (schemas/quota_classes.py). */
export const quotaClassSetUpdateSchema = z.strictObject({ quota_class_set: limitsRecord() });

/** GET os-quota-sets/{project_id}?usage=...: with in_use and reserved per resource. Other parameters are ignored. */
export const quotaShowQuerySchema = z.looseObject({ usage: queryBoolean('usage').optional() });

/** GET /limits: an admin may name another project (3.39 on; tenant_id is the older spelling). */
export const limitsQuerySchema = z.looseObject({ project_id: z.string().optional(), tenant_id: z.string().optional() });
