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
const GROUP_TYPE = '/v3/{project_id}/group_types';
const GROUP = '/v3/{project_id}/groups';
const GROUP_SNAPSHOT = '/v3/{project_id}/group_snapshots';
const ADMIN_OR_OWNER = 'rule:admin_or_owner';
const ADMIN_API = 'rule:admin_api';

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
  { name: 'snapshot:extended_attributes', check: ADMIN_API, description: 'See the os-extended-snapshot-attributes fields (progress, project_id) in snapshot views.', cinder: 'volume_extension:extended_snapshot_attributes' },

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
  { name: 'volume:reset_status', check: ADMIN_API, description: 'Reset the status of a volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-reset_status)` }], cinder: 'volume_extension:volume_admin_actions:reset_status' },
  { name: 'volume:force_delete', check: ADMIN_API, description: 'Force-delete a volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-force_delete)` }], cinder: 'volume_extension:volume_admin_actions:force_delete' },
  { name: 'volume:admin_metadata', check: ADMIN_API, description: "A volume's admin metadata." },
  { name: 'volume:transitions', check: ADMIN_API, description: "Show a volume's phase history (the volume machine's transitions; an extension).", operations: [{ method: 'GET', path: `${VOLUME}/{volume_id}/transitions` }] },
  { name: 'volume:all_tenants', check: ADMIN_API, description: 'List the volumes of every project (all_tenants=1) and see the admin fields of volume views; only a grant that holds whatever the target counts.', operations: [{ method: 'GET', path: `${VOLUME}?all_tenants=1` }] },
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
