/**
 * Volume transfer bodies (cinder/api/schemas/volume_transfer.py): create names the volume (and,
 * from 3.55, whether its snapshots stay behind); accept gives the auth key. Responses are in
 * responses-transfers.ts.
 */
import * as z from 'zod';
import { cinderBooleanSchema, nameSchema, uuidSchema } from './common.js';

export const transferCreateSchema = z.strictObject({
  transfer: z.strictObject({
    volume_id: uuidSchema,
    name: nameSchema.optional(),
    // Read only from 3.55 (TRANSFER_WITH_SNAPSHOTS); the route ignores it below.
    no_snapshots: cinderBooleanSchema.optional(),
  }),
});
export type TransferCreateBody = z.output<typeof transferCreateSchema>;

export const transferAcceptSchema = z.strictObject({
  accept: z.strictObject({
    auth_key: z.union([z.string().min(1, { error: 'auth_key must not be empty' }).max(255), z.int()], { error: 'auth_key must be a string' }).transform(String),
  }),
});
export type TransferAcceptBody = z.output<typeof transferAcceptSchema>;

const timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/);
const link = z.strictObject({ rel: z.string(), href: z.string() });

/** cinder/api/views/transfers.py; the 3.55 and 3.57 fields appear only at those versions. */
const transferHistory = {
  no_snapshots: z.boolean().optional(),
  destination_project_id: z.string().nullable().optional(),
  source_project_id: z.string().optional(),
  accepted: z.boolean().optional(),
};
export const transferSummaryViewSchema = z
  .strictObject({ id: z.string(), volume_id: z.string(), name: z.string().nullable(), links: z.array(link) })
  .meta({ title: 'TransferSummary' });
export const transferViewSchema = z
  .strictObject({ id: z.string(), created_at: timestamp, name: z.string().nullable(), volume_id: z.string(), links: z.array(link), ...transferHistory })
  .meta({ title: 'Transfer' });
export const transferCreatedViewSchema = z
  .strictObject({
    id: z.string(),
    created_at: timestamp,
    name: z.string().nullable(),
    volume_id: z.string(),
    auth_key: z.string(),
    links: z.array(link),
    ...transferHistory,
  })
  .meta({ title: 'TransferCreated' });
export type TransferSummaryView = z.output<typeof transferSummaryViewSchema>;
export type TransferView = z.output<typeof transferViewSchema>;
export type TransferCreatedView = z.output<typeof transferCreatedViewSchema>;

export const transferResponseSchemas = {
  transfer: z.strictObject({ transfer: transferViewSchema }),
  transferCreated: z.strictObject({ transfer: transferCreatedViewSchema }),
  transferAccepted: z.strictObject({ transfer: transferSummaryViewSchema }),
  transferSummaries: z.strictObject({ transfers: z.array(transferSummaryViewSchema) }),
  transferDetails: z.strictObject({ transfers: z.array(transferViewSchema) }),
};
