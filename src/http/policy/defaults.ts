/**
 * The default policy: every rule the API checks, in oslo.policy's language, with what it guards.
 * `npm run policy-sample` prints this table as a commented policy.yaml (docs/policy.yaml.sample),
 * as oslopolicy-sample-generator does for Cinder.
 *
 * The first three are Cinder's own base rules (cinder/policies/base.py), kept under Cinder's
 * names so that an operator's rules that refer to them keep their meaning. The decisions are this
 * service's: owners act on their project's snapshots and volumes, admins on everything, and the
 * compute callback is for admins and the compute service only (Cinder's own default lets any
 * project member send it; etc/policy/cinder-compatible.yaml restores that where it is wanted).
 */

export interface RuleDefault {
  readonly name: string;
  readonly check: string;
  readonly description: string;
  /** The requests the rule guards, as the sample lists them. */
  readonly operations?: readonly { readonly method: string; readonly path: string }[];
  /** Cinder's name for the same rule, when Cinder has one. */
  readonly cinder?: string;
}

const SNAPSHOT = '/v3/{project_id}/snapshots';
const VOLUME = '/v3/{project_id}/volumes';
const TYPES = '/v3/{project_id}/types';
const QOS = '/v3/{project_id}/qos-specs';
const QUOTA_SETS = '/v3/{project_id}/os-quota-sets';
const QUOTA_CLASS_SETS = '/v3/{project_id}/os-quota-class-sets';
const GROUP_TYPE = '/v3/{project_id}/group_types';
const GROUP = '/v3/{project_id}/groups';
const GROUP_SNAPSHOT = '/v3/{project_id}/group_snapshots';
const ADMIN_OR_OWNER = 'rule:admin_or_owner';
const ADMIN_API = 'rule:admin_api';

const TRANSFER = '/v3/{project_id}/os-volume-transfer';
const TRANSFERS = '/v3/{project_id}/volume-transfers';
/** Cinder's volume_transfer policies: the owner offers, shows, lists, withdraws; anyone with the key accepts. */
const TRANSFER_RULES = [
  {
    name: 'volume:create_transfer',
    check: ADMIN_OR_OWNER,
    description: 'Offer a volume to another project (the target is the volume).',
    operations: [{ method: 'POST', path: TRANSFER }, { method: 'POST', path: TRANSFERS }],
    cinder: 'volume:create_transfer',
  },
  {
    name: 'volume:get_transfer',
    check: ADMIN_OR_OWNER,
    description: 'Show a volume transfer.',
    operations: [{ method: 'GET', path: `${TRANSFER}/{transfer_id}` }, { method: 'GET', path: `${TRANSFERS}/{transfer_id}` }],
    cinder: 'volume:get_transfer',
  },
  {
    name: 'volume:get_all_transfers',
    check: ADMIN_OR_OWNER,
    description: 'List volume transfers.',
    operations: [{ method: 'GET', path: TRANSFER }, { method: 'GET', path: `${TRANSFER}/detail` }, { method: 'GET', path: TRANSFERS }, { method: 'GET', path: `${TRANSFERS}/detail` }],
    cinder: 'volume:get_all_transfers',
  },
  {
    name: 'volume:accept_transfer',
    check: '',
    description: 'Accept a volume transfer (any project holding the auth key).',
    operations: [{ method: 'POST', path: `${TRANSFER}/{transfer_id}/accept` }, { method: 'POST', path: `${TRANSFERS}/{transfer_id}/accept` }],
    cinder: 'volume:accept_transfer',
  },
  {
    name: 'volume:delete_transfer',
    check: ADMIN_OR_OWNER,
    description: 'Withdraw a volume transfer.',
    operations: [{ method: 'DELETE', path: `${TRANSFER}/{transfer_id}` }, { method: 'DELETE', path: `${TRANSFERS}/{transfer_id}` }],
    cinder: 'volume:delete_transfer',
  },
] as const;

export const RULE_DEFAULTS = [
  { name: 'context_is_admin', check: 'role:admin', description: "Decides what is required for the 'is_admin:True' check to succeed." },
  {
    name: 'admin_or_owner',
    check: 'is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s',
    description: 'Default rule for most non-Admin APIs: an admin, or a caller of the project that owns the target.',
  },
  { name: 'admin_api', check: 'is_admin:True or (role:admin and is_admin_project:True)', description: 'Default rule for most Admin APIs.' },

  { name: 'snapshot:create', check: ADMIN_OR_OWNER, description: 'Create a snapshot (the target is the volume).', operations: [{ method: 'POST', path: SNAPSHOT }], cinder: 'volume:create_snapshot' },
  { name: 'snapshot:get', check: ADMIN_OR_OWNER, description: 'Show a snapshot and its metadata.', operations: [{ method: 'GET', path: `${SNAPSHOT}/{snapshot_id}` }, { method: 'GET', path: `${SNAPSHOT}/{snapshot_id}/metadata` }], cinder: 'volume:get_snapshot' },
  { name: 'snapshot:get_all', check: ADMIN_OR_OWNER, description: 'List snapshots.', operations: [{ method: 'GET', path: SNAPSHOT }, { method: 'GET', path: `${SNAPSHOT}/detail` }], cinder: 'volume:get_all_snapshots' },
  { name: 'snapshot:update', check: ADMIN_OR_OWNER, description: "Update a snapshot's name, description or metadata.", operations: [{ method: 'PUT', path: `${SNAPSHOT}/{snapshot_id}` }, { method: 'PUT', path: `${SNAPSHOT}/{snapshot_id}/metadata` }], cinder: 'volume:update_snapshot' },
  { name: 'snapshot:delete', check: ADMIN_OR_OWNER, description: 'Delete a snapshot.', operations: [{ method: 'DELETE', path: `${SNAPSHOT}/{snapshot_id}` }], cinder: 'volume:delete_snapshot' },
  {
    name: 'snapshot:update_snapshot_status',
    check: `${ADMIN_API} or role:service`,
    description:
      "The compute service's callback on an assisted snapshot. Compute calls back under its own project for a snapshot of another, so a grant here must not depend on the target's project; Cinder's default (any member of the snapshot's project) is in etc/policy/cinder-compatible.yaml.",
    operations: [{ method: 'POST', path: `${SNAPSHOT}/{snapshot_id}/action (os-update_snapshot_status)` }],
    cinder: 'snapshot_extension:snapshot_actions:update_snapshot_status',
  },
  { name: 'snapshot:reset_status', check: ADMIN_API, description: 'Reset the status of a snapshot.', operations: [{ method: 'POST', path: `${SNAPSHOT}/{snapshot_id}/action (os-reset_status)` }], cinder: 'volume_extension:snapshot_admin_actions:reset_status' },
  { name: 'snapshot:force_delete', check: ADMIN_API, description: 'Force-delete a snapshot.', operations: [{ method: 'POST', path: `${SNAPSHOT}/{snapshot_id}/action (os-force_delete)` }], cinder: 'volume_extension:snapshot_admin_actions:force_delete' },
  { name: 'snapshot:reconcile', check: ADMIN_API, description: 'Reconcile an error or error_deleting snapshot with the files (an extension).', operations: [{ method: 'POST', path: `${SNAPSHOT}/{snapshot_id}/action (os-reconcile)` }] },
  { name: 'snapshot:admin_metadata', check: ADMIN_API, description: "Show a snapshot's admin metadata (compute's status and progress; an extension).", operations: [{ method: 'GET', path: `${SNAPSHOT}/{snapshot_id}/admin_metadata` }] },
  {
    name: 'snapshot:transitions',
    check: ADMIN_API,
    description: "Show a snapshot's phase history (an extension), and use the web UI. Granted whatever the target, the UI shows every project; otherwise only the caller's.",
    operations: [{ method: 'GET', path: `${SNAPSHOT}/{snapshot_id}/transitions` }, { method: 'GET', path: '/ui/api/...' }],
  },
  { name: 'snapshot:all_tenants', check: ADMIN_API, description: 'List the snapshots of every project (all_tenants=1); only a grant that holds whatever the target counts.', operations: [{ method: 'GET', path: `${SNAPSHOT}?all_tenants=1` }] },
  { name: 'snapshot:extended_attributes', check: ADMIN_OR_OWNER, description: 'See the os-extended-snapshot-attributes fields (progress, project_id) in the snapshot show and detail-list views (the target is the snapshot; Cinder lets project readers see them).', cinder: 'volume_extension:extended_snapshot_attributes' },

  { name: 'volume:create', check: ADMIN_OR_OWNER, description: 'Create a volume.', operations: [{ method: 'POST', path: VOLUME }], cinder: 'volume:create' },
  { name: 'volume:get', check: ADMIN_OR_OWNER, description: 'Show a volume.', operations: [{ method: 'GET', path: `${VOLUME}/{volume_id}` }], cinder: 'volume:get' },
  { name: 'volume:get_all', check: ADMIN_OR_OWNER, description: 'List volumes.', operations: [{ method: 'GET', path: VOLUME }, { method: 'GET', path: `${VOLUME}/detail` }], cinder: 'volume:get_all' },
  { name: 'volume:update', check: ADMIN_OR_OWNER, description: 'Update a volume.', operations: [{ method: 'PUT', path: `${VOLUME}/{volume_id}` }], cinder: 'volume:update' },
  { name: 'volume:delete', check: ADMIN_OR_OWNER, description: 'Delete a volume.', operations: [{ method: 'DELETE', path: `${VOLUME}/{volume_id}` }], cinder: 'volume:delete' },
  ...(['reserve', 'unreserve', 'initialize_connection', 'terminate_connection', 'attach', 'begin_detaching', 'roll_detaching', 'detach'] as const).map((action) => ({
    name: `volume:${action}` as const,
    check: ADMIN_OR_OWNER,
    description: `The legacy attach flow's os-${action} action.`,
    operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-${action})` }],
    cinder: `volume_extension:volume_actions:${action}`,
  })),
  { name: 'volume:update_readonly_flag', check: ADMIN_OR_OWNER, description: "Update a volume's readonly flag.", operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-update_readonly_flag)` }], cinder: 'volume:update_readonly_flag' },
  { name: 'volume:get_volume_metadata', check: ADMIN_OR_OWNER, description: "Show a volume's metadata or one item of it.", operations: [{ method: 'GET', path: `${VOLUME}/{volume_id}/metadata` }, { method: 'GET', path: `${VOLUME}/{volume_id}/metadata/{key}` }], cinder: 'volume:get_volume_metadata' },
  { name: 'volume:create_volume_metadata', check: ADMIN_OR_OWNER, description: "Add metadata items to a volume.", operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/metadata` }], cinder: 'volume:create_volume_metadata' },
  { name: 'volume:update_volume_metadata', check: ADMIN_OR_OWNER, description: "Replace a volume's metadata, or update one item.", operations: [{ method: 'PUT', path: `${VOLUME}/{volume_id}/metadata` }, { method: 'PUT', path: `${VOLUME}/{volume_id}/metadata/{key}` }], cinder: 'volume:update_volume_metadata' },
  { name: 'volume:delete_volume_metadata', check: ADMIN_OR_OWNER, description: "Delete one item of a volume's metadata.", operations: [{ method: 'DELETE', path: `${VOLUME}/{volume_id}/metadata/{key}` }], cinder: 'volume:delete_volume_metadata' },
  { name: 'volume:extend', check: ADMIN_OR_OWNER, description: 'Extend a detached volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-extend)` }], cinder: 'volume:extend' },
  ...TRANSFER_RULES,
  { name: 'volume:reset_status', check: ADMIN_API, description: 'Reset the status of a volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-reset_status)` }], cinder: 'volume_extension:volume_admin_actions:reset_status' },
  { name: 'volume:force_delete', check: ADMIN_API, description: 'Force-delete a volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-force_delete)` }], cinder: 'volume_extension:volume_admin_actions:force_delete' },
  { name: 'volume:admin_metadata', check: ADMIN_API, description: "A volume's admin metadata." },
  { name: 'volume:transitions', check: ADMIN_API, description: "Show a volume's phase history (the volume machine's transitions; an extension).", operations: [{ method: 'GET', path: `${VOLUME}/{volume_id}/transitions` }] },
  { name: 'volume:all_tenants', check: ADMIN_API, description: 'List the volumes of every project (all_tenants=1) and see the admin fields of volume views; only a grant that holds whatever the target counts.', operations: [{ method: 'GET', path: `${VOLUME}?all_tenants=1` }] },
  {
    name: 'volume:retype',
    check: ADMIN_OR_OWNER,
    description: "Change a volume's type (without migration: same backend, nothing moves).",
    operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-retype)` }],
    cinder: 'volume:retype',
  },

  { name: 'volume_type:create', check: ADMIN_API, description: 'Create a volume type.', operations: [{ method: 'POST', path: TYPES }], cinder: 'volume_extension:type_create' },
  { name: 'volume_type:update', check: ADMIN_API, description: 'Update a volume type.', operations: [{ method: 'PUT', path: `${TYPES}/{type_id}` }], cinder: 'volume_extension:type_update' },
  { name: 'volume_type:delete', check: ADMIN_API, description: 'Delete a volume type.', operations: [{ method: 'DELETE', path: `${TYPES}/{type_id}` }], cinder: 'volume_extension:type_delete' },
  { name: 'volume_type:get', check: ADMIN_OR_OWNER, description: 'Show a volume type (private ones only to admins and the projects it is shared with).', operations: [{ method: 'GET', path: `${TYPES}/{type_id}` }, { method: 'GET', path: `${TYPES}/default` }], cinder: 'volume_extension:type_get' },
  { name: 'volume_type:get_all', check: ADMIN_OR_OWNER, description: 'List volume types.', operations: [{ method: 'GET', path: TYPES }], cinder: 'volume_extension:type_get_all' },
  { name: 'volume_type:access_extra_specs', check: ADMIN_OR_OWNER, description: 'See extra_specs in volume type views (only the user-visible ones without read_sensitive).', operations: [{ method: 'GET', path: `${TYPES}/{type_id}` }, { method: 'GET', path: TYPES }], cinder: 'volume_extension:access_types_extra_specs' },
  { name: 'volume_type:access_qos_specs_id', check: ADMIN_API, description: 'See qos_specs_id in volume type views.', operations: [{ method: 'GET', path: `${TYPES}/{type_id}` }, { method: 'GET', path: TYPES }], cinder: 'volume_extension:access_types_qos_specs_id' },
  { name: 'volume_type:type_access', check: ADMIN_OR_OWNER, description: 'See os-volume-type-access:is_public in volume type views.', operations: [{ method: 'GET', path: `${TYPES}/{type_id}` }, { method: 'GET', path: TYPES }, { method: 'POST', path: TYPES }], cinder: 'volume_extension:volume_type_access' },
  { name: 'volume_type:type_access_list', check: ADMIN_API, description: 'List the projects a private volume type is shared with.', operations: [{ method: 'GET', path: `${TYPES}/{type_id}/os-volume-type-access` }], cinder: 'volume_extension:volume_type_access:get_all_for_type' },
  { name: 'volume_type:add_project', check: ADMIN_API, description: 'Share a private volume type with a project.', operations: [{ method: 'POST', path: `${TYPES}/{type_id}/action (addProjectAccess)` }], cinder: 'volume_extension:volume_type_access:addProjectAccess' },
  { name: 'volume_type:remove_project', check: ADMIN_API, description: 'Stop sharing a private volume type with a project.', operations: [{ method: 'POST', path: `${TYPES}/{type_id}/action (removeProjectAccess)` }], cinder: 'volume_extension:volume_type_access:removeProjectAccess' },
  { name: 'volume_type:extra_specs_index', check: ADMIN_OR_OWNER, description: "List a volume type's extra specs.", operations: [{ method: 'GET', path: `${TYPES}/{type_id}/extra_specs` }], cinder: 'volume_extension:types_extra_specs:index' },
  { name: 'volume_type:extra_specs_show', check: ADMIN_OR_OWNER, description: "Show one of a volume type's extra specs.", operations: [{ method: 'GET', path: `${TYPES}/{type_id}/extra_specs/{extra_spec_key}` }], cinder: 'volume_extension:types_extra_specs:show' },
  { name: 'volume_type:extra_specs_read_sensitive', check: ADMIN_API, description: 'See every extra spec, not only the user-visible ones (RESKEY:availability_zones, multiattach, replication_enabled).', operations: [{ method: 'GET', path: `${TYPES}/{type_id}/extra_specs` }], cinder: 'volume_extension:types_extra_specs:read_sensitive' },
  { name: 'volume_type:extra_specs_create', check: ADMIN_API, description: "Set a volume type's extra specs.", operations: [{ method: 'POST', path: `${TYPES}/{type_id}/extra_specs` }], cinder: 'volume_extension:types_extra_specs:create' },
  { name: 'volume_type:extra_specs_update', check: ADMIN_API, description: "Update one of a volume type's extra specs.", operations: [{ method: 'PUT', path: `${TYPES}/{type_id}/extra_specs/{extra_spec_key}` }], cinder: 'volume_extension:types_extra_specs:update' },
  { name: 'volume_type:extra_specs_delete', check: ADMIN_API, description: "Delete one of a volume type's extra specs.", operations: [{ method: 'DELETE', path: `${TYPES}/{type_id}/extra_specs/{extra_spec_key}` }], cinder: 'volume_extension:types_extra_specs:delete' },
  { name: 'volume_type:encryption_create', check: ADMIN_API, description: "Create a volume type's encryption spec.", operations: [{ method: 'POST', path: `${TYPES}/{type_id}/encryption` }], cinder: 'volume_extension:volume_type_encryption:create' },
  { name: 'volume_type:encryption_get', check: ADMIN_API, description: "Show a volume type's encryption spec or one of its fields.", operations: [{ method: 'GET', path: `${TYPES}/{type_id}/encryption` }, { method: 'GET', path: `${TYPES}/{type_id}/encryption/{key}` }], cinder: 'volume_extension:volume_type_encryption:get' },
  { name: 'volume_type:encryption_update', check: ADMIN_API, description: "Update a volume type's encryption spec.", operations: [{ method: 'PUT', path: `${TYPES}/{type_id}/encryption/{encryption_id}` }], cinder: 'volume_extension:volume_type_encryption:update' },
  { name: 'volume_type:encryption_delete', check: ADMIN_API, description: "Delete a volume type's encryption spec.", operations: [{ method: 'DELETE', path: `${TYPES}/{type_id}/encryption/{encryption_id}` }], cinder: 'volume_extension:volume_type_encryption:delete' },

  { name: 'qos_specs:create', check: ADMIN_API, description: 'Create QoS specs.', operations: [{ method: 'POST', path: QOS }], cinder: 'volume_extension:qos_specs_manage:create' },
  { name: 'qos_specs:get', check: ADMIN_API, description: 'Show QoS specs.', operations: [{ method: 'GET', path: `${QOS}/{qos_id}` }], cinder: 'volume_extension:qos_specs_manage:get' },
  { name: 'qos_specs:get_all', check: ADMIN_API, description: 'List QoS specs, and the volume types associated with some.', operations: [{ method: 'GET', path: QOS }, { method: 'GET', path: `${QOS}/{qos_id}/associations` }], cinder: 'volume_extension:qos_specs_manage:get_all' },
  {
    name: 'qos_specs:update',
    check: ADMIN_API,
    description: 'Set keys of QoS specs, and associate them with volume types or disassociate them.',
    operations: [
      { method: 'PUT', path: `${QOS}/{qos_id}` },
      { method: 'GET', path: `${QOS}/{qos_id}/associate` },
      { method: 'GET', path: `${QOS}/{qos_id}/disassociate` },
      { method: 'GET', path: `${QOS}/{qos_id}/disassociate_all` },
    ],
    cinder: 'volume_extension:qos_specs_manage:update',
  },
  { name: 'qos_specs:delete', check: ADMIN_API, description: 'Delete QoS specs, or keys of them.', operations: [{ method: 'DELETE', path: `${QOS}/{qos_id}` }, { method: 'PUT', path: `${QOS}/{qos_id}/delete_keys` }], cinder: 'volume_extension:qos_specs_manage:delete' },
  {
    name: 'quota:show',
    check: ADMIN_OR_OWNER,
    description: "Show a project's quotas, with usage, and its defaults (the target is the project named in the path). Cinder's default is a reader of the project or system; this service has no reader role apart from membership.",
    operations: [{ method: 'GET', path: `${QUOTA_SETS}/{target_project_id}` }, { method: 'GET', path: `${QUOTA_SETS}/{target_project_id}/defaults` }, { method: 'GET', path: `${QUOTA_SETS}/{target_project_id}?usage=True` }],
    cinder: 'volume_extension:quotas:show',
  },
  { name: 'quota:update', check: ADMIN_API, description: "Update a project's quotas.", operations: [{ method: 'PUT', path: `${QUOTA_SETS}/{target_project_id}` }], cinder: 'volume_extension:quotas:update' },
  { name: 'quota:delete', check: ADMIN_API, description: "Delete a project's quotas (it follows the default class again).", operations: [{ method: 'DELETE', path: `${QUOTA_SETS}/{target_project_id}` }], cinder: 'volume_extension:quotas:delete' },
  { name: 'quota_class:get', check: ADMIN_API, description: 'Show a quota class.', operations: [{ method: 'GET', path: `${QUOTA_CLASS_SETS}/{class_name}` }], cinder: 'volume_extension:quota_classes:get' },
  { name: 'quota_class:update', check: ADMIN_API, description: 'Update a quota class (the class `default` is every project\'s default).', operations: [{ method: 'PUT', path: `${QUOTA_CLASS_SETS}/{class_name}` }], cinder: 'volume_extension:quota_classes:update' },
  {
    name: 'limits:used_limits',
    check: ADMIN_OR_OWNER,
    description: 'See the used limits (totalVolumesUsed, ...) among the absolute limits; without it, the limits alone.',
    operations: [{ method: 'GET', path: '/v3/{project_id}/limits' }],
    cinder: 'limits_extension:used_limits',
  },
  { name: 'volume_extension:services:index', check: ADMIN_API, description: 'List all services.', operations: [{ method: 'GET', path: '/v3/{project_id}/os-services' }], cinder: 'volume_extension:services:index' },
  {
    name: 'volume_extension:services:update',
    check: ADMIN_API,
    description: 'Update service, including enable, disable, disable-log-reason, freeze, thaw and failover.',
    operations: [{ method: 'PUT', path: '/v3/{project_id}/os-services/{action}' }],
    cinder: 'volume_extension:services:update',
  },
  { name: 'volume:freeze_host', check: ADMIN_API, description: 'Freeze a backend host.', operations: [{ method: 'PUT', path: '/v3/{project_id}/os-services/freeze' }], cinder: 'volume:freeze_host' },
  { name: 'volume:thaw_host', check: ADMIN_API, description: 'Thaw a backend host.', operations: [{ method: 'PUT', path: '/v3/{project_id}/os-services/thaw' }], cinder: 'volume:thaw_host' },
  { name: 'volume:failover_host', check: ADMIN_API, description: 'Failover a backend host.', operations: [{ method: 'PUT', path: '/v3/{project_id}/os-services/failover_host' }], cinder: 'volume:failover_host' },
  { name: 'volume_extension:hosts', check: ADMIN_API, description: 'List, show and update hosts.', operations: [{ method: 'GET', path: '/v3/{project_id}/os-hosts' }, { method: 'GET', path: '/v3/{project_id}/os-hosts/{host_name}' }], cinder: 'volume_extension:hosts' },
  { name: 'scheduler_extension:scheduler_stats:get_pools', check: ADMIN_API, description: 'List all backend pools.', operations: [{ method: 'GET', path: '/v3/{project_id}/scheduler-stats/get_pools' }], cinder: 'scheduler_extension:scheduler_stats:get_pools' },
  { name: 'volume_extension:capabilities', check: ADMIN_API, description: 'Show backend capabilities.', operations: [{ method: 'GET', path: '/v3/{project_id}/capabilities/{host_name}' }], cinder: 'volume_extension:capabilities' },
  { name: 'message:get_all', check: ADMIN_OR_OWNER, description: 'List messages.', operations: [{ method: 'GET', path: '/v3/{project_id}/messages' }], cinder: 'message:get_all' },
  { name: 'message:get', check: ADMIN_OR_OWNER, description: 'Show a message.', operations: [{ method: 'GET', path: '/v3/{project_id}/messages/{message_id}' }], cinder: 'message:get' },
  { name: 'message:delete', check: ADMIN_OR_OWNER, description: 'Delete a message.', operations: [{ method: 'DELETE', path: '/v3/{project_id}/messages/{message_id}' }], cinder: 'message:delete' },
  { name: 'orphan_files:get_all', check: ADMIN_API, description: 'List the files in the share that no volume or snapshot owns (an extension).', operations: [{ method: 'GET', path: '/v3/{project_id}/os-orphan-files' }] },

  // Generic volume groups, as cinder/policies/group_types.py, groups.py and group_snapshots.py.
  {
    name: 'group:group_types_manage',
    check: ADMIN_API,
    description: 'Create, update or delete a group type.',
    operations: [{ method: 'POST', path: GROUP_TYPE }, { method: 'PUT', path: `${GROUP_TYPE}/{group_type_id}` }, { method: 'DELETE', path: `${GROUP_TYPE}/{group_type_id}` }],
    cinder: 'group:group_types_manage',
  },
  {
    name: 'group:group_types_specs',
    check: ADMIN_API,
    description: "Create, show, update or delete a group type's group specs.",
    operations: [
      { method: 'POST', path: `${GROUP_TYPE}/{group_type_id}/group_specs` },
      { method: 'GET', path: `${GROUP_TYPE}/{group_type_id}/group_specs` },
      { method: 'GET', path: `${GROUP_TYPE}/{group_type_id}/group_specs/{key}` },
      { method: 'PUT', path: `${GROUP_TYPE}/{group_type_id}/group_specs/{key}` },
      { method: 'DELETE', path: `${GROUP_TYPE}/{group_type_id}/group_specs/{key}` },
    ],
    cinder: 'group:group_types_specs',
  },
  { name: 'group:access_group_types_specs', check: ADMIN_API, description: 'See the group_specs field of group type views.', cinder: 'group:access_group_types_specs' },
  { name: 'group:get_all', check: ADMIN_OR_OWNER, description: 'List groups.', operations: [{ method: 'GET', path: GROUP }, { method: 'GET', path: `${GROUP}/detail` }], cinder: 'group:get_all' },
  {
    name: 'group:create',
    check: ADMIN_OR_OWNER,
    description: 'Create a group.',
    operations: [{ method: 'POST', path: GROUP }],
    cinder: 'group:create',
  },
  { name: 'group:get', check: ADMIN_OR_OWNER, description: 'Show a group.', operations: [{ method: 'GET', path: `${GROUP}/{group_id}` }], cinder: 'group:get' },
  { name: 'group:update', check: ADMIN_OR_OWNER, description: 'Update a group (name, description, member volumes).', operations: [{ method: 'PUT', path: `${GROUP}/{group_id}` }], cinder: 'group:update' },
  { name: 'group:delete', check: ADMIN_OR_OWNER, description: 'Delete a group.', operations: [{ method: 'POST', path: `${GROUP}/{group_id}/action (delete)` }], cinder: 'group:delete' },
  { name: 'group:reset_status', check: ADMIN_API, description: 'Reset the status of a group.', operations: [{ method: 'POST', path: `${GROUP}/{group_id}/action (reset_status)` }], cinder: 'group:reset_status' },
  { name: 'group:get_all_group_snapshots', check: ADMIN_OR_OWNER, description: 'List group snapshots.', operations: [{ method: 'GET', path: GROUP_SNAPSHOT }, { method: 'GET', path: `${GROUP_SNAPSHOT}/detail` }], cinder: 'group:get_all_group_snapshots' },
  { name: 'group:create_group_snapshot', check: ADMIN_OR_OWNER, description: 'Create a group snapshot (the target is the group).', operations: [{ method: 'POST', path: GROUP_SNAPSHOT }], cinder: 'group:create_group_snapshot' },
  { name: 'group:get_group_snapshot', check: ADMIN_OR_OWNER, description: 'Show a group snapshot.', operations: [{ method: 'GET', path: `${GROUP_SNAPSHOT}/{group_snapshot_id}` }], cinder: 'group:get_group_snapshot' },
  { name: 'group:delete_group_snapshot', check: ADMIN_OR_OWNER, description: 'Delete a group snapshot.', operations: [{ method: 'DELETE', path: `${GROUP_SNAPSHOT}/{group_snapshot_id}` }], cinder: 'group:delete_group_snapshot' },
  {
    name: 'group:reset_group_snapshot_status',
    check: ADMIN_API,
    description: 'Reset the status of a group snapshot.',
    operations: [{ method: 'POST', path: `${GROUP_SNAPSHOT}/{group_snapshot_id}/action (reset_status)` }],
    cinder: 'group:reset_group_snapshot_status',
  },
  {
    name: 'group:transitions',
    check: ADMIN_API,
    description: "Show a group's or a group snapshot's phase history (their machines' transitions; an extension).",
    operations: [{ method: 'GET', path: `${GROUP}/{group_id}/transitions` }, { method: 'GET', path: `${GROUP_SNAPSHOT}/{group_snapshot_id}/transitions` }],
  },
] as const satisfies readonly RuleDefault[];
