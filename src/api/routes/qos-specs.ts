// /v3/{project_id}/qos-specs: Cinder's QoS specs (qos_specs_manage.py), admin-only by default.
// Associations are GETs with the type in the query, as Cinder has them.
import { Hono, type Context } from 'hono';
import { parseBody } from '../../http/body/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { authorize } from '../../http/policy/index.js';
import { parseQuery, uuidSchema } from '../../http/validation/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { parseCinderBoolean } from '../schemas/common.js';
import { qosCreateSchema, qosDeleteQuerySchema, qosSetSchema, qosTypeQuerySchema, qosUnsetSchema } from '../schemas/volume-types.js';
import { qosView } from '../views.js';

export function qosSpecsRoutes(manager: VolumeManager) {
  const app = new Hono();
  const types = manager.types;
  const idParam = (c: Context) => {
    const parsed = uuidSchema.safeParse(c.req.param('id'));
    if (!parsed.success) throw notFound(`No such QoS spec ${c.req.param('id') ?? ''}.`);
    return parsed.data;
  };
  /** Cinder's self and bookmark links (the bookmark without the version prefix). */
  const links = (c: Context, id: string) => {
    const self = new URL(`${c.req.path.replace(/\/qos-specs.*$/, '')}/qos-specs/${id}`, c.req.url);
    const bookmark = new URL(self);
    bookmark.pathname = bookmark.pathname.replace(/\/v3\//, '/');
    return [
      { rel: 'self', href: self.toString() },
      { rel: 'bookmark', href: bookmark.toString() },
    ];
  };
  const volumeTypeId = (c: Context) => {
    const id = parseQuery(c, qosTypeQuerySchema).vol_type_id;
    if (!id) throw badRequest('Volume Type id must not be None.');
    return id;
  };

  app.get('/', async (c) => {
    authorize(c, 'qos_specs:get_all');
    return c.json({ qos_specs: (await types.listQos()).map(qosView) });
  });

  app.post('/', async (c) => {
    authorize(c, 'qos_specs:create');
    const { qos_specs: body } = await parseBody(c, qosCreateSchema);
    const { name, consumer, ...specs } = body;
    const created = await types.createQos({ name: name.trim(), consumer: consumer ?? 'back-end', specs: specs as Record<string, string> });
    return c.json({ qos_specs: qosView(created), links: links(c, created.id) });
  });

  app.get('/:id', async (c) => {
    authorize(c, 'qos_specs:get');
    const q = await types.qos(idParam(c));
    return c.json({ qos_specs: qosView(q), links: links(c, q.id) });
  });

  app.put('/:id', async (c) => {
    authorize(c, 'qos_specs:update');
    const id = idParam(c);
    const body = await parseBody(c, qosSetSchema);
    await types.setQosKeys(id, body.qos_specs);
    return c.json(body);
  });

  app.delete('/:id', async (c) => {
    authorize(c, 'qos_specs:delete');
    const id = idParam(c);
    const force = parseQuery(c, qosDeleteQuerySchema).force;
    await types.deleteQos(id, force !== undefined && parseCinderBoolean(force) === true);
    return c.body(null, 202);
  });

  app.put('/:id/delete_keys', async (c) => {
    authorize(c, 'qos_specs:delete');
    const id = idParam(c);
    const { keys } = await parseBody(c, qosUnsetSchema);
    await types.deleteQosKeys(id, keys);
    return c.body(null, 202);
  });

  app.get('/:id/associations', async (c) => {
    authorize(c, 'qos_specs:get_all');
    const rows = await types.qosAssociations(idParam(c));
    return c.json({ qos_associations: rows.map((t) => ({ association_type: 'volume_type' as const, id: t.id, name: t.name })) });
  });

  app.get('/:id/associate', async (c) => {
    authorize(c, 'qos_specs:update');
    const id = idParam(c);
    await types.associateQos(id, volumeTypeId(c));
    return c.body(null, 202);
  });

  app.get('/:id/disassociate', async (c) => {
    authorize(c, 'qos_specs:update');
    const id = idParam(c);
    await types.disassociateQos(id, volumeTypeId(c));
    return c.body(null, 202);
  });

  app.get('/:id/disassociate_all', async (c) => {
    authorize(c, 'qos_specs:update');
    await types.disassociateAllQos(idParam(c));
    return c.body(null, 202);
  });

  return app;
}
