import { Hono } from 'hono';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { onApiError } from '../faults/index.js';
import { parseOrFault, parseQuery, parseUuidParam, uuidSchema, VERBATIM } from './index.js';

const querySchema = z.strictObject({
  limit: z.string().regex(/^\d+$/, { error: 'must be an integer' }).transform(Number).optional(),
  name: z.string().optional(),
});

function app() {
  const a = new Hono();
  a.onError(onApiError());
  a.get('/things', (c) => c.json(parseQuery(c, querySchema)));
  a.get('/snapshots/:id', (c) => c.json({ id: parseUuidParam(c, 'id', 'Snapshot') }));
  return a;
}

describe('query and path parameters through Hono', () => {
  it('a repeated query parameter counts by its last value, like webob', async () => {
    const res = await app().request('/things?limit=5&limit=7&name=x');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ limit: 7, name: 'x' });
  });

  it('a refused query value is a 400 naming the parameter and the query string', async () => {
    const bad = await app().request('/things?limit=abc');
    expect(bad.status).toBe(400);
    expect((await bad.json()).badRequest.message).toBe('Invalid input for field/attribute limit. Value: "abc". must be an integer');
    const unknown = await app().request('/things?colour=red');
    expect((await unknown.json()).badRequest.message).toBe("Additional properties are not allowed ('colour' was unexpected) in the query string.");
  });

  it('refuses NUL in a query parameter before it reaches a schema', async () => {
    const res = await app().request('/things?name=a%00b');
    expect(res.status).toBe(400);
    expect((await res.json()).badRequest.message).toContain('Query parameters must not contain NUL characters.');
  });

  it('a UUID path id is lower-cased; anything else is 404 the way Cinder answers unknown ids', async () => {
    const ok = await app().request('/snapshots/2B9D9D5E-6F43-4C1A-9B8E-0A4A7A3C1F00');
    expect(await ok.json()).toEqual({ id: '2b9d9d5e-6f43-4c1a-9b8e-0a4a7a3c1f00' });
    const bad = await app().request('/snapshots/not-a-uuid');
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual({ itemNotFound: { code: 404, message: 'Snapshot not-a-uuid could not be found.' } });
  });
});

describe('uuidSchema', () => {
  it("takes any 8-4-4-4-12 hex string, as Cinder's is_uuid_like does, and lower-cases it", () => {
    // Version and variant nibbles that RFC 4122 would refuse.
    expect(parseOrFault(uuidSchema, 'AAAAAAAA-BBBB-0CCC-FDDD-EEEEEEEEEEEE')).toBe('aaaaaaaa-bbbb-0ccc-fddd-eeeeeeeeeeee');
    expect(() => parseOrFault(uuidSchema, 'aaaaaaaa-bbbb-cccc-dddd')).toThrow(/must be a UUID/);
    expect(() => parseOrFault(uuidSchema, 42)).toThrow(/must be a UUID string/);
  });
});

describe('messages', () => {
  it("a refinement marked VERBATIM answers its own message, Cinder's whole answer, unwrapped", () => {
    const one = z.record(z.string(), z.string()).refine((m) => Object.keys(m).length === 1, { error: 'Request body contains too many items', params: VERBATIM });
    const plain = z.record(z.string(), z.string()).refine((m) => Object.keys(m).length === 1, { error: 'one item' });
    expect(() => parseOrFault(one, { a: 'x', b: 'y' })).toThrow(/^Request body contains too many items$/);
    expect(() => parseOrFault(plain, { a: 'x', b: 'y' })).toThrow(/^Invalid input for field\/attribute body\. Value: .*\. one item$/);
  });

  it('the UUID pattern spells both cases instead of a flag, so a JSON Schema pattern can carry it', () => {
    expect(z.toJSONSchema(uuidSchema, { io: 'input' })).toMatchObject({ type: 'string', pattern: expect.stringContaining('[0-9a-fA-F]{8}') });
  });
});
