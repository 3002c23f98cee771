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

export const groupTypeListQuerySchema = z.looseObject({
  is_public: z.string().optional(),
  sort: z.string().optional(),
  sort_key: z.string().optional(),
  sort_dir: z.string().optional(),
});

export const groupCreateSchema = z.strictObject({
  group: z.strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    group_type: z.string().min(1, { error: 'must not be empty' }).max(255),
    volume_types: z.array(z.string().min(1).max(255)).min(1, { error: 'volume_types must hold at least one volume type' }),
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

export const groupCreateFromSourceSchema = z.strictObject({
  'create-from-src': z.strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    source_group_id: uuidSchema.nullable().optional(),
    group_snapshot_id: uuidSchema.nullable().optional(),
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

