/**
 * Group type, group spec, group and group snapshot request bodies (cinder/api/schemas/
 * group_types.py, group_specs.py, groups.py, group_snapshots.py).
 */
import * as z from 'zod';
import { cinderBooleanSchema, descriptionSchema, metadataSchema, nameSchema, textUpTo, uuidSchema } from './common.js';
import { resettableGroupSnapshotStatuses } from '../../../machines/group-snapshot.js';
import { resettableGroupStatuses } from '../../../machines/group.js';

/** parameter_types.name: 1..255 characters. */
const requiredName = textUpTo(255).min(1, { error: 'must not be empty' });

export const groupTypeCreateSchema = z.strictObject({
  group_type: z.strictObject({
    name: requiredName,
    description: descriptionSchema.optional(),
    is_public: cinderBooleanSchema.optional(),
    group_specs: metadataSchema.nullable().optional(),
  }),
});

export const groupTypeUpdateSchema = z.strictObject({
  group_type: z
    .strictObject({
      name: nameSchema.optional(),
      description: descriptionSchema.optional(),
      is_public: cinderBooleanSchema.optional(),
    })
    .refine((g) => g.name !== undefined || g.description !== undefined || g.is_public !== undefined, {
      error: 'Specify group type name, description or a combination thereof.',
    }),
});

export const groupSpecsSchema = z.strictObject({ group_specs: metadataSchema });

/** PUT …/group_specs/{key}: one key, the one in the path. */
export const groupSpecItemSchema = metadataSchema.refine((m) => Object.keys(m).length === 1, { error: 'the body must hold exactly one key, the one in the path' });

const GROUP_TYPE_SORT_KEYS = ['name', 'id', 'created_at', 'description', 'is_public'] as const;
const SORT_ITEM = `(?:${GROUP_TYPE_SORT_KEYS.join('|')})(?::(?:asc|desc))?`;

/** Cinder's group type list: is_public (a boolean, or None for every type), and its sort keys. */
export const groupTypeListQuerySchema = z.looseObject({
  is_public: z.string().regex(/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE|[01]|[Yy]es|[Nn]o|[Nn]one|NONE)$/, { error: 'is_public must be a boolean or None' }).optional(),
  sort: z.string().regex(new RegExp(`^${SORT_ITEM}(?:,${SORT_ITEM})*$`), { error: `sort keys are ${GROUP_TYPE_SORT_KEYS.join(', ')}` }).optional(),
  sort_key: z.enum(GROUP_TYPE_SORT_KEYS).optional(),
  sort_dir: z.enum(['asc', 'desc']).optional(),
});

export const groupCreateSchema = z.strictObject({
  group: z.strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    // Ids (Cinder also takes names; names need the volume_types table, merged from another branch).
    group_type: uuidSchema,
    volume_types: z.array(uuidSchema).min(1, { error: 'volume_types must hold at least one volume type' }),
    availability_zone: textUpTo(255).nullable().optional(),
  }),
});

export const groupUpdateSchema = z.strictObject({
  group: z.strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    add_volumes: z.string().nullable().optional(),
    remove_volumes: z.string().nullable().optional(),
  }),
});

const groupStatus = z.enum(resettableGroupStatuses, { error: `Group status must be one of ${resettableGroupStatuses.join(', ')}` });

export const groupActionSchemas = {
  delete: z.strictObject({ delete: z.union([z.null(), z.strictObject({ 'delete-volumes': cinderBooleanSchema.optional() })]) }),
  reset_status: z.strictObject({ reset_status: z.strictObject({ status: groupStatus }) }),
} as const;
export type GroupActionName = keyof typeof groupActionSchemas;

/** POST /groups/action (3.14): a new group from a group snapshot or from a group (cinder/api/schemas/groups.py create_from_source). */
export const groupCreateFromSrcSchema = z.strictObject({
  'create-from-src': z.strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    group_snapshot_id: uuidSchema.nullable().optional(),
    source_group_id: uuidSchema.nullable().optional(),
  }),
});

export const groupSnapshotCreateSchema = z.strictObject({
  group_snapshot: z.strictObject({
    group_id: uuidSchema,
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
  }),
});

const groupSnapshotStatus = z.enum(resettableGroupSnapshotStatuses, { error: `Group snapshot status must be one of ${resettableGroupSnapshotStatuses.join(', ')}` });

export const groupSnapshotActionSchemas = {
  reset_status: z.strictObject({ reset_status: z.strictObject({ status: groupSnapshotStatus }) }),
} as const;

