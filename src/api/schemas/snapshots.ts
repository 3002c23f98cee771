/**
 * Snapshot request bodies (cinder/api/schemas/snapshots.py, snapshot_actions.py and the snapshot
 * part of admin_actions.py), plus this service's compute_* fields on os-update_snapshot_status.
 */
import * as z from 'zod';
import { computeSnapshotStatuses, resettableStatuses } from '../../../machines/snapshot.js';
import { VERBATIM } from '../../http/validation/index.js';
import {
  atLeastOneOf,
  cinderBooleanSchema,
  descriptionSchema,
  metadataSchema,
  nameSchema,
  noArgsSchema,
  progressSchema,
  statusSchema,
  textUpTo,
  uuidSchema,
} from './common.js';

/**
 * `name` and the v1 alias `display_name` are both allowed; when both are sent `name` wins, as
 * in Cinder's controller. (Cinder's create schema has no `display_description`.)
 */
export const snapshotCreateSchema = z
  .strictObject({
    snapshot: z.strictObject({
      // parameter_types.uuid_allow_null: a null volume is looked up, and not found (404), as in Cinder.
      volume_id: uuidSchema.nullable(),
      name: nameSchema.optional(),
      display_name: nameSchema.optional(),
      description: descriptionSchema.optional(),
      force: cinderBooleanSchema.optional(),
      metadata: metadataSchema.nullable().optional(),
    }),
  })
  .transform(({ snapshot: s }) => ({
    snapshot: {
      volume_id: s.volume_id,
      name: s.name !== undefined ? s.name : s.display_name,
      description: s.description,
      // Absent is kept apart from false: from microversion 3.66 an explicit false is refused.
      force: s.force,
      metadata: s.metadata,
    },
  }));
export type SnapshotCreateBody = z.output<typeof snapshotCreateSchema>;

const SNAPSHOT_UPDATE_KEYS = ['name', 'description', 'display_name', 'display_description'] as const;

export const snapshotUpdateSchema = z
  .strictObject({
    snapshot: atLeastOneOf(
      z.strictObject({
        name: nameSchema.optional(),
        description: descriptionSchema.optional(),
        display_name: nameSchema.optional(),
        display_description: descriptionSchema.optional(),
      }),
      SNAPSHOT_UPDATE_KEYS,
      `at least one of ${SNAPSHOT_UPDATE_KEYS.map((k) => `'${k}'`).join(', ')} is required`,
    ),
  })
  .transform(({ snapshot: s }) => ({
    snapshot: {
      name: s.name !== undefined ? s.name : s.display_name,
      description: s.description !== undefined ? s.description : s.display_description,
    },
  }));
export type SnapshotUpdateBody = z.output<typeof snapshotUpdateSchema>;

const COMPUTE_SNAPSHOT_STATUSES = computeSnapshotStatuses;

/**
 * The compute service's callback. `status` stays any string here: whether it is allowed depends
 * on the snapshot's current status, which only the engine knows (and Cinder answers those with
 * its own 400 messages).
 */
export const updateSnapshotStatusSchema = z.strictObject({
  'os-update_snapshot_status': z.strictObject({
    // Bounded like Cinder's status column (255): the value is echoed in refusals and recorded in
    // the snapshot's history, so a 64 KiB "status" must not get that far.
    status: textUpTo(255),
    progress: progressSchema.optional(),
    compute_snapshot_status: z
      .enum(COMPUTE_SNAPSHOT_STATUSES, { error: `must be one of ${COMPUTE_SNAPSHOT_STATUSES.join(', ')}` })
      .optional(),
    compute_progress: progressSchema.optional(),
  }),
});
export type UpdateSnapshotStatusBody = z.output<typeof updateSnapshotStatusSchema>;

export const snapshotResetStatusSchema = z.strictObject({
  'os-reset_status': z.strictObject({
    // Only statuses the machine has an admin transition to: a snapshot reset to "creating"
    // would claim work that no phase is doing.
    status: statusSchema(resettableStatuses, 'Snapshot'),
  }),
});
export type SnapshotResetStatusBody = z.output<typeof snapshotResetStatusSchema>;

export const snapshotForceDeleteSchema = z.strictObject({ 'os-force_delete': noArgsSchema });
export type SnapshotForceDeleteBody = z.output<typeof snapshotForceDeleteSchema>;

/**
 * An extension (Cinder has no such action; its answer is reset-state and a hand repair): an admin
 * asks for an `error` / `error_deleting` snapshot to be reconciled with the files. Named in the
 * `os-` style of Cinder's admin actions, taking no arguments like `os-force_delete`.
 */
export const snapshotReconcileSchema = z.strictObject({ 'os-reconcile': noArgsSchema });
export type SnapshotReconcileBody = z.output<typeof snapshotReconcileSchema>;

/** POST and PUT /snapshots/{id}/metadata (cinder/api/schemas/snapshot_metadata.py create, update_all). */
export const snapshotMetadataBodySchema = z.strictObject({ metadata: metadataSchema });

/** PUT /snapshots/{id}/metadata/{key}: exactly one item (Cinder's minProperties/maxProperties 1). */
export const snapshotMetaItemBodySchema = z.strictObject({
  meta: metadataSchema
    .refine((m) => Object.keys(m).length === 1, { error: 'Request body contains too many items', params: VERBATIM })
    .meta({ minProperties: 1, maxProperties: 1 }),
});

/** Schema per action name for POST /snapshots/{id}/action; see `peekAction` in src/http/body. */
export const snapshotActionSchemas = {
  'os-update_snapshot_status': updateSnapshotStatusSchema,
  'os-reset_status': snapshotResetStatusSchema,
  'os-force_delete': snapshotForceDeleteSchema,
  'os-reconcile': snapshotReconcileSchema,
} as const;
export type SnapshotActionName = keyof typeof snapshotActionSchemas;
