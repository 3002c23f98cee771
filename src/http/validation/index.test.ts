import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { onApiError } from '../../src/api/faults.js';
import { snapshotListQuerySchema } from '../../src/api/schemas/index.js';
import { parseQuery, parseUuidParam } from '../../src/api/validation.js';

function app() {
  const a = new Hono();
  a.onError(onApiError());
  a.get('/snapshots', (c) => c.json(parseQuery(c, snapshotListQuerySchema)));
  a.get('/snapshots/:id', (c) => c.json({ id: parseUuidParam(c, 'id', 'Snapshot') }));
  return a;
}

describe('query and path parameters through Hono', () => {
  it('parses the query string; a repeated parameter counts by its last value, like webob', async () => {
    const res = await app().request('/snapshots?limit=5&limit=7&sort=size:asc&name=x');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ limit: 7, sort: [{ key: 'size', dir: 'asc' }], filters: { name: 'x' } });
  });

  it('bad query values are 400 naming the parameter', async () => {
    const res = await app().request('/snapshots?limit=abc');
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.badRequest.message).toContain('limit param must be an integer');
    expect(body.badRequest.message).toContain('field/attribute limit');
  });

  it('a UUID path id is lower-cased; anything else is 404 the way Cinder answers unknown ids', async () => {
    const ok = await app().request('/snapshots/2B9D9D5E-6F43-4C1A-9B8E-0A4A7A3C1F00');
    expect(await ok.json()).toEqual({ id: '2b9d9d5e-6f43-4c1a-9b8e-0a4a7a3c1f00' });
    const bad = await app().request('/snapshots/not-a-uuid');
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual({ itemNotFound: { code: 404, message: 'Snapshot not-a-uuid could not be found.' } });
  });
});
