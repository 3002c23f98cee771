// /v3/{project_id}/os-quota-sets/{target}, /os-quota-class-sets/{class} and /limits, as Cinder's
// contrib/quotas.py, contrib/quota_classes.py and v3/limits.py (with used_limits.py) answer them.
// The project in the path is the caller's; the one the quotas are of is the target.
import { Hono, type Context } from 'hono';
import { parseBody } from '../../http/body/index.js';
import { authorize, isAllowed } from '../../http/policy/index.js';
import { parseQuery } from '../../http/validation/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { limitsQuerySchema, quotaClassSetUpdateSchema, quotaSetUpdateSchema, quotaShowQuerySchema } from '../schemas/index.js';
import { atLeast } from '../version.js';

/** An admin may ask for another project's limits from this microversion on (LIMITS_ADMIN_FILTER). */
const LIMITS_ADMIN_FILTER = '3.39';

export function quotaSetRoutes(manager: VolumeManager) {
  const app = new Hono();
  const target = (c: Context) => c.req.param('target_project_id')!;

  app.get('/:target_project_id', async (c) => {
    const projectId = target(c);
    authorize(c, 'quota:show', { projectId });
    const { usage } = parseQuery(c, quotaShowQuerySchema);
    const quotaSet = usage ? await manager.quotas.projectUsage(projectId) : await manager.quotas.projectLimits(projectId);
    return c.json({ quota_set: { ...quotaSet, id: projectId } });
  });

  app.get('/:target_project_id/defaults', async (c) => {
    const projectId = target(c);
    authorize(c, 'quota:show', { projectId });
    return c.json({ quota_set: { ...(await manager.quotas.defaults()), id: projectId } });
  });

  app.put('/:target_project_id', async (c) => {
    const projectId = target(c);
    authorize(c, 'quota:update', { projectId });
    const { quota_set: body } = await parseBody(c, quotaSetUpdateSchema);
    return c.json({ quota_set: await manager.quotas.updateProject(projectId, body) });
  });

  app.delete('/:target_project_id', async (c) => {
    const projectId = target(c);
    authorize(c, 'quota:delete', { projectId });
    await manager.quotas.deleteProject(projectId);
    return c.body(null, 200);
  });
  return app;
}

export function quotaClassSetRoutes(manager: VolumeManager) {
  const app = new Hono();
  app.get('/:class_name', async (c) => {
    authorize(c, 'quota_class:get');
    const className = c.req.param('class_name');
    return c.json({ quota_class_set: { ...(await manager.quotas.classLimits(className)), id: className } });
  });

  app.put('/:class_name', async (c) => {
    authorize(c, 'quota_class:update');
    const { quota_class_set: body } = await parseBody(c, quotaClassSetUpdateSchema);
    return c.json({ quota_class_set: await manager.quotas.updateClass(c.req.param('class_name'), body) });
  });
  return app;
}

export function limitsRoutes(manager: VolumeManager) {
  const app = new Hono();
  app.get('/', async (c) => {
    const q = parseQuery(c, limitsQuerySchema);
    const auth = c.var.auth;
    // Cinder drops the parameter below 3.39 or for a non-admin: their own project's limits.
    const named = auth.isAdmin && atLeast(c, LIMITS_ADMIN_FILTER) ? (q.project_id ?? q.tenant_id) : undefined;
    const projectId = named ?? auth.projectId;
    const withUsage = isAllowed(c, 'limits:used_limits');
    return c.json({ limits: { rate: [], absolute: await manager.quotas.absoluteLimits(projectId, withUsage) } });
  });
  return app;
}
