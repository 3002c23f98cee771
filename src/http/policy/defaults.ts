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
  { name: 'volume:extend', check: ADMIN_OR_OWNER, description: 'Extend a detached volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-extend)` }], cinder: 'volume:extend' },
  ...TRANSFER_RULES,
  { name: 'volume:reset_status', check: ADMIN_API, description: 'Reset the status of a volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-reset_status)` }], cinder: 'volume_extension:volume_admin_actions:reset_status' },
  { name: 'volume:force_delete', check: ADMIN_API, description: 'Force-delete a volume.', operations: [{ method: 'POST', path: `${VOLUME}/{volume_id}/action (os-force_delete)` }], cinder: 'volume_extension:volume_admin_actions:force_delete' },
  { name: 'volume:admin_metadata', check: ADMIN_API, description: "A volume's admin metadata." },
  { name: 'volume:transitions', check: ADMIN_API, description: "Show a volume's phase history (the volume machine's transitions; an extension).", operations: [{ method: 'GET', path: `${VOLUME}/{volume_id}/transitions` }] },
  { name: 'volume:all_tenants', check: ADMIN_API, description: 'List the volumes of every project (all_tenants=1) and see the admin fields of volume views; only a grant that holds whatever the target counts.', operations: [{ method: 'GET', path: `${VOLUME}?all_tenants=1` }] },
  { name: 'orphan_files:get_all', check: ADMIN_API, description: 'List the files in the share that no volume or snapshot owns (an extension).', operations: [{ method: 'GET', path: '/v3/{project_id}/os-orphan-files' }] },
] as const satisfies readonly RuleDefault[];
