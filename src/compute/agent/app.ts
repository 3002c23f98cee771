/**
 * The agent's HTTP face: the slice of Nova's compute API (v2.1) that assisted snapshots need,
 * with Nova's status codes and fault bodies. Only validation happens before the answer; the live
 * part is the agent's business afterwards.
 */
import { Hono } from 'hono';
import {
  ASSISTED_SNAPSHOTS_PATH,
  formatMicroversion,
  NOVA_API_VERSION_HEADER,
  NOVA_STRICT_DELETE_QUERY_MICROVERSION,
  OPENSTACK_API_VERSION_HEADER,
  AGENT_STATUS_PREFIX,
  type ActiveFileView,
  type GuestResumeView,
  type AssistedSnapshotCreateResponse,
  type VolumeAttachmentView,
} from '../../contracts/nova.js';
import { assertJsonValue, parseBody } from '../../http/body/index.js';
import { badRequest, onApiError, onNotFound, type FaultLogger } from '../../http/faults/index.js';
import { parseOrFault, parseUuidParam } from '../../http/validation/index.js';
import type { ComputeAgent } from './agent.js';
import { compare, requestedMicroversion, type Microversion } from './microversion.js';
import { deleteInfoSchema, guestResumeSchema, snapshotCreateSchema, volumeAttachmentCreateSchema } from './schemas.js';

declare module 'hono' {
  interface ContextVariableMap {
    microversion: Microversion;
  }
}

function attachmentView(serverId: string, a: { volumeId: string; device: string }): VolumeAttachmentView {
  // Before 2.89 Nova's attachment id is the volume id.
  return { id: a.volumeId, serverId, volumeId: a.volumeId, device: a.device };
}

export function createComputeAgentApp(agent: ComputeAgent, options: { logger?: FaultLogger } = {}): Hono {
  const app = new Hono();
  app.onError(onApiError(options));
  app.notFound(onNotFound);

  const api = new Hono();
  api.use(async (c, next) => {
    const version = requestedMicroversion((name) => c.req.header(name));
    c.set('microversion', version);
    await next();
    const text = formatMicroversion(version);
    c.header(NOVA_API_VERSION_HEADER, text);
    c.header(OPENSTACK_API_VERSION_HEADER, `compute ${text}`);
    c.header('Vary', `${OPENSTACK_API_VERSION_HEADER}, ${NOVA_API_VERSION_HEADER}`);
  });

  api.post(ASSISTED_SNAPSHOTS_PATH, async (c) => {
    const body = await parseBody(c, snapshotCreateSchema);
    const { volume_id: volumeId, create_info: createInfo } = body.snapshot;
    agent.acceptCreate(volumeId, createInfo);
    // Nova answers with create_info's optional `id` (null when Cinder, as usual, sends none).
    const answer: AssistedSnapshotCreateResponse = { snapshot: { id: createInfo.id ?? null, volumeId } };
    return c.json(answer, 200);
  });

  api.delete(`${ASSISTED_SNAPSHOTS_PATH}/:id`, (c) => {
    const url = new URL(c.req.url);
    if (compare(c.get('microversion'), NOVA_STRICT_DELETE_QUERY_MICROVERSION) >= 0) {
      const extra = [...new Set(url.searchParams.keys())].filter((k) => k !== 'delete_info');
      if (extra.length > 0) {
        throw badRequest(
          `Invalid input for query parameters ${extra.join(', ')}. Value: ${extra.join(', ')}. Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`,
        );
      }
    }
    // webob's GET dict gives the last of repeated values, which is what Nova reads.
    const raw = url.searchParams.getAll('delete_info').at(-1);
    if (raw === undefined) throw badRequest("'delete_info'");
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw badRequest(`delete_info is not valid JSON: ${(err as Error).message}`);
    }
    // The body's limits hold for JSON carried in the query string too.
    assertJsonValue(parsed);
    const deleteInfo = parseOrFault(deleteInfoSchema, parsed, 'delete_info');
    agent.acceptDelete(c.req.param('id'), deleteInfo);
    return c.body(null, 204);
  });

  api.get('/servers/:server_id/os-volume_attachments', (c) => {
    const serverId = parseUuidParam(c, 'server_id', 'Instance');
    return c.json({ volumeAttachments: agent.listAttachments(serverId).map((a) => attachmentView(serverId, a)) });
  });

  api.post('/servers/:server_id/os-volume_attachments', async (c) => {
    const serverId = parseUuidParam(c, 'server_id', 'Instance');
    const body = await parseBody(c, volumeAttachmentCreateSchema);
    const { volumeId, device } = body.volumeAttachment;
    const record = await agent.attachVolume(serverId, volumeId, device);
    return c.json({ volumeAttachment: attachmentView(serverId, record) }, 200);
  });

  api.delete('/servers/:server_id/os-volume_attachments/:volume_id', async (c) => {
    const serverId = parseUuidParam(c, 'server_id', 'Instance');
    const volumeId = parseUuidParam(c, 'volume_id', 'Volume');
    await agent.detachVolume(serverId, volumeId);
    return c.body(null, 202);
  });

  app.route('/v2.1', api);

  // An extension, not Nova's API (Nova has nothing like it): which file an instance has open for
  // a volume, read by the storage side as evidence when it reconciles a snapshot after compute
  // went quiet. Read only, outside /v2.1 so it cannot be mistaken for a Nova call.
  app.get(`${AGENT_STATUS_PREFIX}/volumes/:volume_id/active`, async (c) => {
    const volumeId = parseUuidParam(c, 'volume_id', 'Volume');
    const seen = await agent.activeFileOf(volumeId);
    const view: ActiveFileView = { active: { volume_id: volumeId, instance_id: seen.instanceId, active_file: seen.activeFile } };
    return c.json(view);
  });

  // The guest pause extension (not Nova's API; src/contracts/nova.ts): the storage side resumes a
  // guest the agent paused for a snapshot whenever the snapshot leaves its pause window, and
  // retries until this answers. Idempotent; `resumed: false` when there was nothing to resume.
  app.post(`${AGENT_STATUS_PREFIX}/volumes/:volume_id/resume`, async (c) => {
    const volumeId = parseUuidParam(c, 'volume_id', 'Volume');
    await parseBody(c, guestResumeSchema);
    const done = await agent.resumeGuest(volumeId);
    const view: GuestResumeView = { resume: { volume_id: volumeId, instance_id: done.instanceId, resumed: done.resumed } };
    return c.json(view);
  });
  return app;
}
