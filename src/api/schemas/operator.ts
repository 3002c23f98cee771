/**
 * Requests and responses of the operator resources (extensions, availability zones, os-services,
 * os-hosts, scheduler-stats, capabilities, messages), shaped as Cinder's answers and as Tempest's
 * response schemas (tempest/lib/api_schema/response/volume) check them.
 */
import * as z from 'zod';

const timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/);
const link = z.strictObject({ rel: z.string(), href: z.string() });
const name255 = z.string().min(1).max(255);

// Requests: Cinder's cinder/api/schemas/services.py.
// The host is required here, where Cinder's get_cluster_host refuses a body without it (400 either way).
const hostField = name255;
const cluster = z.string().nullable().optional();
/** Cinder's anyOf: `binary`, or the deprecated `service`. */
const binaryOrService = <T extends z.ZodRawShape>(extra: T) =>
  z.union([
    z.strictObject({ binary: name255, service: name255.optional(), host: hostField, cluster, ...extra }),
    z.strictObject({ service: name255, binary: name255.optional(), host: hostField, cluster, ...extra }),
  ]);
export const serviceEnableSchema = binaryOrService({}).meta({ title: 'ServiceEnableDisable' });
export const serviceDisableLogReasonSchema = binaryOrService({ disabled_reason: name255.optional() }).meta({ title: 'ServiceDisableLogReason' });
export const freezeThawSchema = z.strictObject({ host: hostField, cluster }).meta({ title: 'FreezeThaw' });
export const failoverSchema = z
  .strictObject({ host: hostField, backend_id: z.string().nullable().optional(), cluster })
  .meta({ title: 'Failover' });

/** PUT /os-services/{action}: the body of each. */
export const serviceActionSchemas = {
  enable: serviceEnableSchema,
  disable: serviceEnableSchema,
  'disable-log-reason': serviceDisableLogReasonSchema,
  freeze: freezeThawSchema,
  thaw: freezeThawSchema,
  failover_host: failoverSchema,
  failover: failoverSchema,
} as const;
export type ServiceAction = keyof typeof serviceActionSchemas;

export const serviceListQuerySchema = z.looseObject({ host: z.string().optional(), binary: z.string().optional() }).meta({ title: 'ServiceListQuery' });
export const hostListQuerySchema = z.looseObject({ zone: z.string().optional() }).meta({ title: 'HostListQuery' });
export const poolListQuerySchema = z.looseObject({ detail: z.string().optional() }).meta({ title: 'PoolListQuery' });

// Responses.
export const extensionsSchema = z
  .strictObject({
    extensions: z.array(z.strictObject({ name: z.string(), alias: z.string(), updated: z.string(), description: z.string(), links: z.array(link) })),
  })
  .meta({ title: 'Extensions' });

export const availabilityZonesSchema = z
  .strictObject({ availabilityZoneInfo: z.array(z.strictObject({ zoneName: z.string(), zoneState: z.strictObject({ available: z.boolean() }) })) })
  .meta({ title: 'AvailabilityZones' });

export const serviceViewSchema = z.strictObject({
  binary: z.string(),
  host: z.string(),
  zone: z.string(),
  status: z.enum(['enabled', 'disabled']),
  state: z.enum(['up', 'down']),
  updated_at: timestamp.nullable(),
  disabled_reason: z.string().nullable(),
  // cinder-volume only.
  replication_status: z.string().optional(),
  active_backend_id: z.string().nullable().optional(),
  frozen: z.boolean().optional(),
  // 3.7 and later.
  cluster: z.string().nullable().optional(),
  // 3.49 and later, cinder-volume only.
  backend_state: z.string().optional(),
});
export const servicesSchema = z.strictObject({ services: z.array(serviceViewSchema) }).meta({ title: 'Services' });
export const serviceChangedSchema = z
  .strictObject({
    host: z.string(),
    service: z.string(),
    binary: z.string(),
    status: z.enum(['enabled', 'disabled']),
    disabled: z.boolean(),
    disabled_reason: z.string().nullable().optional(),
  })
  .meta({ title: 'ServiceChanged' });

export const hostsSchema = z
  .strictObject({
    hosts: z.array(
      z.strictObject({
        host_name: z.string(),
        service: z.string(),
        zone: z.string(),
        'service-status': z.enum(['available', 'unavailable']),
        'service-state': z.enum(['enabled', 'disabled']),
        'last-update': timestamp.nullable(),
      }),
    ),
  })
  .meta({ title: 'Hosts' });
export const hostSchema = z
  .strictObject({
    host: z.array(
      z.strictObject({
        resource: z.strictObject({
          host: z.string(),
          project: z.string(),
          volume_count: z.string(),
          total_volume_gb: z.string(),
          snapshot_count: z.string(),
          total_snapshot_gb: z.string(),
        }),
      }),
    ),
  })
  .meta({ title: 'Host' });

// Cinder's drivers report a number of GiB, or "unknown" / "infinite".
const capacity = z.union([z.number(), z.enum(['unknown', 'infinite'])]);
export const poolCapabilitiesSchema = z.strictObject({
  pool_name: z.string(),
  volume_backend_name: z.string(),
  vendor_name: z.string(),
  driver_version: z.string(),
  storage_protocol: z.string(),
  total_capacity_gb: capacity,
  free_capacity_gb: capacity,
  allocated_capacity_gb: z.number(),
  reserved_percentage: z.int(),
  QoS_support: z.boolean(),
  thin_provisioning_support: z.boolean(),
  thick_provisioning_support: z.boolean(),
  multiattach: z.boolean(),
  timestamp: timestamp,
});
export const poolsSchema = z
  .strictObject({ pools: z.array(z.strictObject({ name: z.string(), capabilities: poolCapabilitiesSchema.optional() })) })
  .meta({ title: 'Pools' });

export const capabilitiesSchema = z
  .strictObject({
    namespace: z.string(),
    vendor_name: z.string(),
    volume_backend_name: z.string(),
    pool_name: z.string().nullable(),
    driver_version: z.string(),
    storage_protocol: z.string(),
    display_name: z.string().nullable(),
    description: z.string().nullable(),
    visibility: z.string().nullable(),
    replication_targets: z.array(z.unknown()),
    properties: z.record(z.string(), z.strictObject({ title: z.string(), description: z.string(), type: z.string() })),
  })
  .meta({ title: 'Capabilities' });

export const messageViewSchema = z.strictObject({
  id: z.string(),
  event_id: z.string(),
  user_message: z.string(),
  message_level: z.string(),
  created_at: timestamp,
  guaranteed_until: timestamp,
  request_id: z.string(),
  links: z.array(link),
  resource_type: z.string().optional(),
  resource_uuid: z.string().optional(),
});
export const messageSchema = z.strictObject({ message: messageViewSchema }).meta({ title: 'Message' });
export const messagesSchema = z.strictObject({ messages: z.array(messageViewSchema) }).meta({ title: 'Messages' });

export type ServiceViewBody = z.output<typeof serviceViewSchema>;
export type MessageViewBody = z.output<typeof messageViewSchema>;
export type PoolsBody = z.output<typeof poolsSchema>;
export type CapabilitiesBody = z.output<typeof capabilitiesSchema>;
export type HostsBody = z.output<typeof hostsSchema>;
export type HostBody = z.output<typeof hostSchema>;
export type ExtensionsBody = z.output<typeof extensionsSchema>;
