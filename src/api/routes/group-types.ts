// /v3/{project_id}/group_types (microversion 3.11): group types and their group specs, as
// cinder/api/v3/group_types.py and group_specs.py. Managing them is for admins; listing and
// showing is for everyone, private types only for admins (as Cinder).
import { Hono, type Context } from 'hono';
import { parseBody } from '../../http/body/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { authorize, grantedByRole } from '../../http/policy/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import type { GroupTypeRow } from '../../engine/store/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { groupTypeView } from '../group-views.js';
import { groupSpecItemSchema, groupSpecsSchema, groupTypeCreateSchema, groupTypeListQuerySchema, groupTypeUpdateSchema, parseCinderBoolean } from '../schemas/index.js';
import { requireVersion } from '../version.js';

const GROUP_TYPES_VERSION = '3.11';

export function groupTypeRoutes(manager: VolumeManager) {
  const app = new Hono();
  const groups = manager.groups;
  app.use('*', async (c, next) => {
    requireVersion(c, GROUP_TYPES_VERSION);
    await next();
  });
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Group type');
  const render = (c: Context, t: GroupTypeRow) => groupTypeView(t, { specs: grantedByRole(c, 'group:access_group_types_specs') });
  /** A private type is visible to admins only (this service keeps no per-project access list). */
  const visible = async (c: Context, id: string) => {
    const t = await groups.groupType(id);
    if (!t.isPublic && !grantedByRole(c, 'group:group_types_manage')) throw notFound(`Group type ${id} could not be found.`);
    return t;
  };

  app.get('/', async (c) => {
    const q = parseQuery(c, groupTypeListQuerySchema);
    const admin = grantedByRole(c, 'group:group_types_manage');
    // Cinder's _parse_is_public: absent is public only; "None" is every type (for admins).
    let isPublic: boolean | null = true;
    if (q.is_public !== undefined) {
      if (q.is_public.toLowerCase() === 'none') isPublic = null;
      else {
        const parsed = parseCinderBoolean(q.is_public);
        if (parsed === undefined) throw badRequest(`Invalid is_public filter [${q.is_public}]`);
        isPublic = parsed;
      }
    }
    if (!admin) isPublic = true;
    const sort = parseSort(q);
    const rows = [...(await groups.listGroupTypes(isPublic))].sort((a, b) => {
      for (const { key, dir } of sort) {
        const x = String(sortValue(a, key) ?? '');
        const y = String(sortValue(b, key) ?? '');
        if (x !== y) return (x < y ? -1 : 1) * (dir === 'asc' ? 1 : -1);
      }
      return 0;
    });
    return c.json({ group_types: rows.map((t) => render(c, t)) });
  });

  app.get('/default', async (c) => c.json({ group_type: render(c, await groups.defaultGroupType()) }));

  app.get('/:id', async (c) => c.json({ group_type: render(c, await visible(c, idParam(c))) }));

  app.post('/', async (c) => {
    authorize(c, 'group:group_types_manage');
    const { group_type: body } = await parseBody(c, groupTypeCreateSchema);
    const created = await groups.createGroupType({
      name: body.name.trim(),
      description: body.description ?? null,
      isPublic: body.is_public ?? true,
      specs: body.group_specs ?? {},
    });
    return c.json({ group_type: render(c, created) }, 202);
  });

  app.put('/:id', async (c) => {
    authorize(c, 'group:group_types_manage');
    const id = idParam(c);
    const { group_type: body } = await parseBody(c, groupTypeUpdateSchema);
    if (body.name !== undefined && (body.name === null || body.name.trim() === '')) throw badRequest('Group type name can not be empty.');
    const updated = await groups.updateGroupType(id, {
      ...(body.name ? { name: body.name.trim() } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.is_public !== undefined ? { isPublic: body.is_public } : {}),
    });
    return c.json({ group_type: render(c, updated) });
  });

  app.delete('/:id', async (c) => {
    authorize(c, 'group:group_types_manage');
    await groups.deleteGroupType(idParam(c));
    return c.body(null, 202);
  });

  // Group specs.
  app.get('/:id/group_specs', async (c) => {
    authorize(c, 'group:group_types_specs');
    return c.json({ group_specs: await groups.groupSpecs(idParam(c)) });
  });

  app.post('/:id/group_specs', async (c) => {
    authorize(c, 'group:group_types_specs');
    const id = idParam(c);
    const { group_specs: specs } = await parseBody(c, groupSpecsSchema);
    return c.json({ group_specs: await groups.setGroupSpecs(id, specs) }, 202);
  });

  app.get('/:id/group_specs/:key', async (c) => {
    authorize(c, 'group:group_types_specs');
    const key = c.req.param('key');
    return c.json({ [key]: await groups.groupSpec(idParam(c), key) });
  });

  app.put('/:id/group_specs/:key', async (c) => {
    authorize(c, 'group:group_types_specs');
    const id = idParam(c);
    const key = c.req.param('key');
    const body = await parseBody(c, groupSpecItemSchema);
    if (!(key in body)) throw badRequest('Request body and URI mismatch');
    return c.json(await groups.setGroupSpecs(id, { [key]: body[key]! }));
  });

  app.delete('/:id/group_specs/:key', async (c) => {
    authorize(c, 'group:group_types_specs');
    await groups.deleteGroupSpec(idParam(c), c.req.param('key'));
    return c.body(null, 202);
  });

  return app;
}

type SortKey = 'name' | 'id' | 'created_at' | 'description' | 'is_public';
const SORT_KEYS: readonly SortKey[] = ['name', 'id', 'created_at', 'description', 'is_public'];

/** Cinder's sort=key:dir,… or sort_key/sort_dir; default created_at desc, as its group type list. */
function parseSort(q: { sort?: string | undefined; sort_key?: string | undefined; sort_dir?: string | undefined }): Array<{ key: SortKey; dir: 'asc' | 'desc' }> {
  if (q.sort && (q.sort_key || q.sort_dir)) throw badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  const parts = q.sort ? q.sort.split(',').map((p) => p.trim().split(':')) : [[q.sort_key ?? 'created_at', q.sort_dir ?? 'desc']];
  return parts.map(([key, dir]) => {
    if (!SORT_KEYS.includes(key as SortKey)) throw badRequest(`Invalid sort key ${key}`);
    const d = (dir ?? 'desc').toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction ${dir}`);
    return { key: key as SortKey, dir: d };
  });
}

function sortValue(t: GroupTypeRow, key: SortKey): unknown {
  switch (key) {
    case 'name':
      return t.name;
    case 'id':
      return t.id;
    case 'created_at':
      return t.createdAt.toISOString();
    case 'description':
      return t.description;
    case 'is_public':
      return t.isPublic;
  }
}
