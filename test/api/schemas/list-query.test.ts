// The list endpoints' query schema through parseQuery, as a route reads it.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { snapshotListQuerySchema } from '../../../src/api/schemas/index.js';
import { onApiError } from '../../../src/http/faults/index.js';
import { parseQuery } from '../../../src/http/validation/index.js';

function app() {
  const a = new Hono();
  a.onError(onApiError());
  a.get('/snapshots', (c) => c.json(parseQuery(c, snapshotListQuerySchema)));
  return a;
}

describe('list query parameters through Hono', () => {
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
});
