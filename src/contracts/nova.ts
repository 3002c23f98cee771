// Nova's compute API as this project speaks it, in one place for both ends: the client that calls
// Nova (src/compute/nova-client.ts) and the embedded agent that stands in for it
// (src/compute/agent/). Types and constants only: no I/O, no validation (the agent's zod schemas
// check requests against these shapes).

/** A compute API microversion, `major.minor`. */
export interface Microversion {
  major: number;
  minor: number;
}

/** The base microversion; also what a request without a version header gets. */
export const NOVA_MIN_MICROVERSION: Microversion = { major: 2, minor: 1 };
/** Nova Zed's maximum. */
export const NOVA_MAX_MICROVERSION: Microversion = { major: 2, minor: 93 };
/** From here on the snapshot delete refuses query parameters other than delete_info. */
export const NOVA_STRICT_DELETE_QUERY_MICROVERSION: Microversion = { major: 2, minor: 75 };

export const formatMicroversion = (v: Microversion) => `${v.major}.${v.minor}`;

/** Nova's own version header; `OpenStack-API-Version: compute <v>` is the generic one. */
export const NOVA_API_VERSION_HEADER = 'X-OpenStack-Nova-API-Version';
export const OPENSTACK_API_VERSION_HEADER = 'OpenStack-API-Version';

/** Base path of the assisted snapshot API, under the versioned endpoint (`.../v2.1`). */
export const ASSISTED_SNAPSHOTS_PATH = '/os-assisted-volume-snapshots';

/** create_info, as Cinder's RemoteFS driver sends it (remotefs.py _create_snapshot_online). */
export interface CreateInfo {
  snapshot_id: string;
  type: 'qcow2';
  new_file: string;
  id?: string;
  /** The compute agent's extension (GuestResumeRequest below): never sent to a real Nova. */
  pause_guest?: boolean;
}

/**
 * delete_info, the DELETE's JSON query parameter (remotefs.py _delete_snapshot_online): with
 * merge_target_file null the active file is pulled onto file_to_merge, else file_to_merge is
 * committed into merge_target_file.
 */
export interface DeleteInfo {
  type: string;
  volume_id: string;
  file_to_merge?: string | null;
  merge_target_file?: string | null;
}

/** POST /os-assisted-volume-snapshots; the client passes create_info on as the driver made it. */
export interface AssistedSnapshotCreateRequest<C = CreateInfo> {
  snapshot: { volume_id: string; create_info: C };
}

/** Its 200 answer: create_info's optional `id` (null when, as usual, Cinder sends none). */
export interface AssistedSnapshotCreateResponse {
  snapshot: { id: string | null; volumeId: string };
}

/** POST /servers/{server_id}/os-volume_attachments */
export interface VolumeAttachmentCreateRequest {
  volumeAttachment: { volumeId: string; device?: string | null };
}

/** One volume attachment as Nova shows it (before 2.89 its id is the volume id). */
export interface VolumeAttachmentView {
  id: string;
  serverId: string;
  volumeId: string;
  device: string;
}

/**
 * The embedded compute agent's status extension (not Nova's API): which file the instance that
 * holds a volume has open. `GET {agent}/agent/v1/volumes/{volume_id}/active`; `instance_id` and
 * `active_file` are null when no instance holds the volume.
 */
export const AGENT_STATUS_PREFIX = '/agent/v1';
export interface ActiveFileView {
  active: { volume_id: string; instance_id: string | null; active_file: string | null };
}

/**
 * The compute agent's guest pause extension (not Nova's API; Nova has none). The storage side
 * asks for a pause per create with create_info `pause_guest: true` (the agent's create_info
 * schema accepts that one extra key; Nova's refuses it, so it is only sent to the agent), and
 * `POST {agent}/agent/v1/volumes/{volume_id}/resume` resumes the guest holding the volume if the
 * agent paused it: idempotent, and a no-op (`resumed: false`) for a guest the agent did not pause.
 */
export interface GuestResumeRequest {
  resume: { snapshot_id?: string };
}
export interface GuestResumeView {
  resume: { volume_id: string; instance_id: string | null; resumed: boolean };
}
