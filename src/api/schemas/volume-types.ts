/**
 * Request bodies and queries of volume types, their extra specs, access and encryption, and QoS
 * specs (cinder/api/schemas/volume_types.py, types_extra_specs.py, volume_type_access.py,
 * volume_type_encryption.py, qos_specs.py, and os-retype of volume_actions.py).
 */
import * as z from 'zod';
import { cinderBooleanSchema, descriptionSchema, textUpTo } from './common.js';

/** parameter_types.name (format 'name'): 1..255 characters, not only spaces. */
const typeName = textUpTo(255).regex(/\S/, { error: 'Name has a minimum character requirement of 1.' });

/** extra_specs_with_no_spaces_key: keys of [a-zA-Z0-9-_:.], values up to 255. */
export const EXTRA_SPEC_KEY_PATTERN = /^[a-zA-Z0-9_:.-]{1,255}$/;
const extraSpecKey = z.string().regex(EXTRA_SPEC_KEY_PATTERN, { error: 'extra spec keys must be 1 to 255 characters from a-z A-Z 0-9 - _ : .' });
export const extraSpecsSchema = z.record(extraSpecKey, textUpTo(255));

/** parameter_types.extra_specs (spaces allowed in keys), as QoS keys take them. */
const specKey = z.string().regex(/^[a-zA-Z0-9_:. /-]{1,255}$/, { error: 'keys must be 1 to 255 characters from a-z A-Z 0-9 - _ : . / and space' });

export const volumeTypeCreateSchema = z.strictObject({
  volume_type: z.strictObject({
    name: typeName,
    description: descriptionSchema.optional(),
    extra_specs: extraSpecsSchema.nullable().optional(),
    'os-volume-type-access:is_public': cinderBooleanSchema.optional(),
  }),
});

export const volumeTypeUpdateSchema = z.strictObject({
  volume_type: z.strictObject({
    name: textUpTo(255).min(1, { error: 'must not be empty' }).nullable().optional(),
    description: descriptionSchema.optional(),
    is_public: cinderBooleanSchema.nullable().optional(),
  }),
});

export const extraSpecsCreateSchema = z.strictObject({ extra_specs: extraSpecsSchema });

/** PUT /types/{id}/extra_specs/{key}: exactly the one key the URL names. */
export const extraSpecUpdateSchema = z
  .record(extraSpecKey, textUpTo(255))
  .refine((o) => Object.keys(o).length === 1, { error: 'exactly one extra spec is required' })
  // The refinement, as the OpenAPI document states it.
  .meta({ minProperties: 1, maxProperties: 1 });

const projectSchema = z.strictObject({ project: textUpTo(255).min(1, { error: 'must not be empty' }) });
export const typeActionSchemas = {
  addProjectAccess: z.strictObject({ addProjectAccess: projectSchema }),
  removeProjectAccess: z.strictObject({ removeProjectAccess: projectSchema }),
};
export type TypeActionName = keyof typeof typeActionSchemas;

/** parameter_types.key_size: an integer, or a string of digits, ≥0; or null. */
const keySize = z
  .union([z.int().min(0).max(0x7fffffff), z.string().regex(/^[0-9]{1,10}$/, { error: 'key_size must be an integer' }), z.null()])
  .transform((v) => (typeof v === 'string' ? Number(v) : v))
  .refine((v) => v === null || v <= 0x7fffffff, { error: 'key_size is too large' });
const encryptionFields = {
  key_size: keySize.optional(),
  provider: textUpTo(255),
  control_location: z.enum(['front-end', 'back-end'], { error: "control_location must be 'front-end' or 'back-end'" }),
  cipher: textUpTo(255).nullable().optional(),
};
export const encryptionCreateSchema = z.strictObject({ encryption: z.strictObject(encryptionFields) });
export const encryptionUpdateSchema = z.strictObject({
  encryption: z.strictObject({ ...encryptionFields, provider: encryptionFields.provider.optional(), control_location: encryptionFields.control_location.optional() }),
});

export const QOS_CONSUMERS = ['front-end', 'back-end', 'both'] as const;
const consumer = z.enum(QOS_CONSUMERS, { error: "consumer must be 'front-end', 'back-end' or 'both'" });

/** Every key other than name and consumer is a spec (Cinder's schema leaves them open). */
export const qosCreateSchema = z.strictObject({
  qos_specs: z
    .object({ name: typeName, consumer: consumer.optional() })
    .catchall(textUpTo(255)),
});

export const qosSetSchema = z.strictObject({ qos_specs: z.record(specKey, textUpTo(255)) }).superRefine((b, ctx) => {
  const c = b.qos_specs.consumer;
  if (c !== undefined && !(QOS_CONSUMERS as readonly string[]).includes(c)) ctx.addIssue({ code: 'custom', message: "consumer must be 'front-end', 'back-end' or 'both'", path: ['qos_specs', 'consumer'] });
});

export const qosUnsetSchema = z.strictObject({
  keys: z.array(textUpTo(255).min(1, { error: 'must not be empty' })).refine((k) => new Set(k).size === k.length, { error: 'keys must be unique' }),
});

/** Other parameters are ignored, as Cinder ignores filters it does not know. */
export const typeListQuerySchema = z.object({ is_public: z.string().optional() });
export const qosDeleteQuerySchema = z.object({ force: z.string().optional() });
export const qosTypeQuerySchema = z.object({ vol_type_id: z.string().optional() });

export const retypeSchema = z.strictObject({
  'os-retype': z.strictObject({
    new_type: z.string({ error: 'new_type must be a string' }),
    migration_policy: z.enum(['on-demand', 'never'], { error: "migration_policy must be 'on-demand' or 'never'" }).nullable().optional(),
  }),
});
