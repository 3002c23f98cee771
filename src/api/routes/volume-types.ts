// /v3/{project_id}/types: volume types (Cinder's types, types_manage, volume_type_access and
// types_extra_specs controllers) and their encryption spec (volume_type_encryption). Which
// fields a view carries is policy's, as in Cinder's view builders.
import { Hono, type Context } from 'hono';
import { parseAction, parseBody } from '../../http/body/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { authorize, isAllowed } from '../../http/policy/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import type { VolumeTypeRow } from '../../engine/store/index.js';
import { parseCinderBoolean } from '../schemas/common.js';
import {
  encryptionCreateSchema,
  encryptionUpdateSchema,
  extraSpecsCreateSchema,
  extraSpecUpdateSchema,
  typeActionSchemas,
  typeListQuerySchema,
  volumeTypeCreateSchema,
  volumeTypeUpdateSchema,
} from '../schemas/volume-types.js';
import { encryptionView, volumeTypeView } from '../views.js';

/** The extra specs a caller without read_sensitive sees (cinder/policies/type_extra_specs.py). */
const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

/** Cinder's _parse_is_public: absent lists public types, "none" every type, else a boolean. */
function parseIsPublic(value: string | undefined): boolean | null {
  if (value === undefined) return true;
  if (value.toLowerCase() === 'none') return null;
  const parsed = parseCinderBoolean(value);
  if (parsed === undefined) throw badRequest(`Invalid is_public filter [${value}]`);
  return parsed;
}

export function volumeTypeRoutes(manager: VolumeManager) {
  const app = new Hono();
  const types = manager.types;
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Volume type');
  const viewer = (c: Context) => ({ projectId: c.var.auth.projectId, isAdmin: c.var.auth.isAdmin });
  const visibleSpecs = (c: Context, specs: Record<string, string>) =>
    isAllowed(c, 'volume_type:extra_specs_read_sensitive') ? specs : Object.fromEntries(Object.entries(specs).filter(([k]) => USER_VISIBLE_EXTRA_SPECS.includes(k)));
  /** GET views (Cinder's v3 view builder, with the access extension). */
  const shown = (c: Context, t: VolumeTypeRow) =>
    volumeTypeView(
      { ...t, extraSpecs: visibleSpecs(c, t.extraSpecs) },
      { extraSpecs: isAllowed(c, 'volume_type:access_extra_specs'), qosSpecsId: isAllowed(c, 'volume_type:access_qos_specs_id'), access: isAllowed(c, 'volume_type:type_access') },
    );

  app.get('/', async (c) => {
    authorize(c, 'volume_type:get_all');
    const q = parseQuery(c, typeListQuerySchema);
    // Only admins choose; everyone else sees the public types and those shared with them.
    const isPublic = c.var.auth.isAdmin ? parseIsPublic(q.is_public) : true;
    const rows = await types.list(viewer(c), isPublic);
    return c.json({ volume_types: rows.map((t) => shown(c, t)) });
  });

  app.get('/default', async (c) => {
    authorize(c, 'volume_type:get');
    return c.json({ volume_type: shown(c, await types.defaultType()) });
  });

  app.get('/:id', async (c) => {
    authorize(c, 'volume_type:get');
    return c.json({ volume_type: shown(c, await types.get(idParam(c), viewer(c))) });
  });

  app.post('/', async (c) => {
    authorize(c, 'volume_type:create');
    const { volume_type: body } = await parseBody(c, volumeTypeCreateSchema);
    const created = await types.create({
      name: body.name,
      description: body.description ?? null,
      isPublic: body['os-volume-type-access:is_public'] ?? true,
      extraSpecs: body.extra_specs ?? {},
    });
    // Cinder answers a create with its older view builder (every extra spec, no QoS id).
    return c.json({ volume_type: volumeTypeView(created, { extraSpecs: true, qosSpecsId: false, access: isAllowed(c, 'volume_type:type_access') }) });
  });

  app.put('/:id', async (c) => {
    authorize(c, 'volume_type:update');
    const id = idParam(c);
    const { volume_type: body } = await parseBody(c, volumeTypeUpdateSchema);
    if (body.name != null && body.name.trim().length === 0) throw badRequest('Volume type name can not be empty.');
    if (body.name == null && body.description === undefined && body.is_public == null) {
      throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
    }
    const updated = await types.update(id, {
      ...(body.name != null ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.is_public != null ? { isPublic: body.is_public } : {}),
    });
    return c.json({ volume_type: volumeTypeView(updated, { extraSpecs: true, qosSpecsId: false, access: false }) });
  });

  app.delete('/:id', async (c) => {
    authorize(c, 'volume_type:delete');
    await types.delete(idParam(c));
    return c.body(null, 202);
  });

  // Extra specs.
  app.get('/:id/extra_specs', async (c) => {
    authorize(c, 'volume_type:extra_specs_index');
    const t = await types.get(idParam(c), viewer(c));
    return c.json({ extra_specs: visibleSpecs(c, t.extraSpecs) });
  });

  app.post('/:id/extra_specs', async (c) => {
    authorize(c, 'volume_type:extra_specs_create');
    const id = idParam(c);
    const body = await parseBody(c, extraSpecsCreateSchema);
    await types.get(id);
    return c.json({ extra_specs: await types.setExtraSpecs(id, body.extra_specs) });
  });

  app.get('/:id/extra_specs/:key', async (c) => {
    authorize(c, 'volume_type:extra_specs_show');
    const id = idParam(c);
    const key = c.req.param('key');
    const specs = visibleSpecs(c, (await types.get(id, viewer(c))).extraSpecs);
    if (!Object.hasOwn(specs, key)) throw notFound(`Volume Type ${id} has no extra specs with key ${key}.`);
    return c.json({ [key]: specs[key]! });
  });

  app.put('/:id/extra_specs/:key', async (c) => {
    authorize(c, 'volume_type:extra_specs_update');
    const id = idParam(c);
    const key = c.req.param('key');
    const body = await parseBody(c, extraSpecUpdateSchema);
    await types.get(id);
    if (!Object.hasOwn(body, key)) throw badRequest('Request body and URI mismatch');
    return c.json(await types.setExtraSpecs(id, body));
  });

  app.delete('/:id/extra_specs/:key', async (c) => {
    authorize(c, 'volume_type:extra_specs_delete');
    await types.deleteExtraSpec(idParam(c), c.req.param('key'));
    return c.body(null, 202);
  });

  // Access to private types.
  app.get('/:id/os-volume-type-access', async (c) => {
    authorize(c, 'volume_type:type_access_list');
    const id = idParam(c);
    const projects = await types.projects(id);
    return c.json({ volume_type_access: projects.map((projectId) => ({ volume_type_id: id, project_id: projectId })) });
  });

  app.post('/:id/action', async (c) => {
    const id = idParam(c);
    const request = await parseAction(c, typeActionSchemas);
    if (request.action === 'addProjectAccess') {
      authorize(c, 'volume_type:add_project');
      await types.addProject(id, request.body.addProjectAccess.project);
    } else {
      authorize(c, 'volume_type:remove_project');
      await types.removeProject(id, request.body.removeProjectAccess.project);
    }
    return c.body(null, 202);
  });

  // Encryption.
  app.get('/:id/encryption', async (c) => {
    authorize(c, 'volume_type:encryption_get');
    return c.json(encryptionView(await types.encryption(idParam(c))));
  });

  app.get('/:id/encryption/:key', async (c) => {
    authorize(c, 'volume_type:encryption_get');
    const id = idParam(c);
    const key = c.req.param('key');
    const view = encryptionView(await types.encryption(id)) as Record<string, unknown>;
    if (!Object.hasOwn(view, key)) throw notFound(`Volume type encryption for type ${id} does not exist.`);
    return c.json({ [key]: view[key] });
  });

  app.post('/:id/encryption', async (c) => {
    authorize(c, 'volume_type:encryption_create');
    const id = idParam(c);
    const { encryption: e } = await parseBody(c, encryptionCreateSchema);
    const created = await types.createEncryption(id, { provider: e.provider, cipher: e.cipher ?? null, keySize: e.key_size ?? null, controlLocation: e.control_location });
    return c.json({
      encryption: {
        volume_type_id: created.volumeTypeId,
        encryption_id: created.encryptionId,
        key_size: created.keySize,
        provider: created.provider,
        control_location: created.controlLocation as 'front-end' | 'back-end',
        cipher: created.cipher,
      },
    });
  });

  app.put('/:id/encryption/:key', async (c) => {
    authorize(c, 'volume_type:encryption_update');
    const id = idParam(c);
    const { encryption: e } = await parseBody(c, encryptionUpdateSchema);
    await types.updateEncryption(id, {
      ...(e.provider !== undefined ? { provider: e.provider } : {}),
      ...(e.cipher !== undefined ? { cipher: e.cipher } : {}),
      ...(e.key_size !== undefined ? { keySize: e.key_size } : {}),
      ...(e.control_location !== undefined ? { controlLocation: e.control_location } : {}),
    });
    // Cinder echoes what was sent.
    return c.json({ encryption: e });
  });

  app.delete('/:id/encryption/:key', async (c) => {
    authorize(c, 'volume_type:encryption_delete');
    await types.deleteEncryption(idParam(c));
    return c.body(null, 202);
  });

  return app;
}
