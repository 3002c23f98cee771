/**
 * Response bodies of group types, groups and group snapshots (cinder/api/v3/views/group_types.py,
 * groups.py, group_snapshots.py), closed like the others (responses.ts).
 */
import * as z from 'zod';

const timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/);
const id = z.string();
const stringMap = z.record(z.string(), z.string());

export const groupTypeViewSchema = z
  .strictObject({
    id,
    name: z.string(),
    description: z.string().nullable(),
    is_public: z.boolean(),
    // Only for callers granted group:access_group_types_specs.
    group_specs: stringMap.optional(),
  })
  .meta({ title: 'GroupType' });
export type GroupTypeView = z.output<typeof groupTypeViewSchema>;

export const groupSummaryViewSchema = z.strictObject({ id, name: z.string().nullable() }).meta({ title: 'GroupSummary' });
export type GroupSummaryView = z.output<typeof groupSummaryViewSchema>;

export const groupViewSchema = z
  .strictObject({
    id,
    name: z.string().nullable(),
    description: z.string().nullable(),
    status: z.string(),
    availability_zone: z.string(),
    created_at: timestamp.nullable(),
    group_type: id,
    volume_types: z.array(id),
    // From microversion 3.14.
    group_snapshot_id: id.nullable().optional(),
    source_group_id: id.nullable().optional(),
    // From 3.25, with list_volume=True.
    volumes: z.array(id).optional(),
  })
  .meta({ title: 'Group' });
export type GroupView = z.output<typeof groupViewSchema>;

export const groupSnapshotSummaryViewSchema = z.strictObject({ id, name: z.string().nullable() }).meta({ title: 'GroupSnapshotSummary' });
export type GroupSnapshotSummaryView = z.output<typeof groupSnapshotSummaryViewSchema>;

export const groupSnapshotViewSchema = z
  .strictObject({
    id,
    group_id: id,
    name: z.string().nullable(),
    description: z.string().nullable(),
    status: z.string(),
    created_at: timestamp.nullable(),
    group_type_id: id,
  })
  .meta({ title: 'GroupSnapshot' });
export type GroupSnapshotView = z.output<typeof groupSnapshotViewSchema>;

export const groupResponseSchemas = {
  groupType: z.strictObject({ group_type: groupTypeViewSchema }),
  groupTypes: z.strictObject({ group_types: z.array(groupTypeViewSchema) }),
  groupSpecs: z.strictObject({ group_specs: stringMap }),
  groupSpecItem: stringMap,
  groupCreated: z.strictObject({ group: groupSummaryViewSchema }),
  group: z.strictObject({ group: groupViewSchema }),
  groupSummaries: z.strictObject({ groups: z.array(groupSummaryViewSchema) }),
  groupDetails: z.strictObject({ groups: z.array(groupViewSchema) }),
  groupSnapshotCreated: z.strictObject({ group_snapshot: z.strictObject({ id, name: z.string().nullable(), group_type_id: id }) }),
  groupSnapshot: z.strictObject({ group_snapshot: groupSnapshotViewSchema }),
  groupSnapshotSummaries: z.strictObject({ group_snapshots: z.array(groupSnapshotSummaryViewSchema) }),
  groupSnapshotDetails: z.strictObject({ group_snapshots: z.array(groupSnapshotViewSchema) }),
};
