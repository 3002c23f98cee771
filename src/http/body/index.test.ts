import { Hono } from 'hono';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { jsonBody, parseAction, parseBody, peekAction, readJsonBody } from './index.js';
import { onApiError, onNotFound } from '../faults/index.js';

const schema = z.strictObject({ thing: z.strictObject({ size: z.int().min(1), name: z.string().optional() }) });

function app(maxBytes?: number) {
  const a = new Hono();
  a.onError(onApiError());
  a.notFound(onNotFound);
  a.use('*', jsonBody({ maxBytes }));
  a.post('/things', async (c) => c.json(await parseBody(c, schema), 202));
  a.delete('/things', async (c) => c.json({ body: await readJsonBody(c) }));
  a.put('/raw', async (c) => c.json({ parsed: await parseBody(c, schema), again: await c.req.json() }));
  a.post('/action', async (c) =>
    c.json(
      await parseAction(c, {
        'os-a': z.strictObject({ 'os-a': z.null() }),
        'os-b': z.strictObject({ 'os-b': z.strictObject({ n: z.int() }) }),
      }),
    ),
  );
  return a;
}

const post = (body: BodyInit | null, headers: Record<string, string> = { 'Content-Type': 'application/json' }, path = '/things', maxBytes?: number) =>
  app(maxBytes).request(path, { method: 'POST', body, headers });

async function fault(res: Response) {
  return { status: res.status, body: await res.json() };
}

describe('JSON bodies', () => {
  it('parses a valid body', async () => {
    const res = await post(JSON.stringify({ thing: { size: 2 } }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ thing: { size: 2 } });
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/vnd.openstack.volume+json',
  ])('accepts Content-Type %s', async (ct) => {
    expect((await post(JSON.stringify({ thing: { size: 1 } }), { 'Content-Type': ct })).status).toBe(202);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/jsonx'])(
    'refuses Content-Type %s with 415 badMediaType',
    async (ct) => {
      expect(await fault(await post('{"thing":{"size":1}}', { 'Content-Type': ct }))).toEqual({
        status: 415,
        body: { badMediaType: { code: 415, message: 'Unsupported Content-Type' } },
      });
    },
  );

  it.each(['{', '{"thing": }', "{'thing': 1}", 'nope', '{"a":1}{"b":2}'])('malformed JSON %j -> 400', async (text) => {
    expect(await fault(await post(text))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Malformed request body' } },
    });
  });

  it('leaves the body readable for handlers that use c.req.json()', async () => {
    const body = JSON.stringify({ thing: { size: 4 } });
    const res = await app().request('/raw', { method: 'PUT', body, headers: { 'Content-Type': 'application/json' } });
    expect(await res.json()).toEqual({ parsed: { thing: { size: 4 } }, again: { thing: { size: 4 } } });
  });

  it('refuses bytes that are not UTF-8 as malformed', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]);
    expect((await fault(await post(bytes))).status).toBe(400);
  });

  it('treats a missing body as malformed where one is required', async () => {
    expect(await fault(await post(null))).toEqual({
      status: 400,
      body: { badRequest: { code: 400, message: 'Malformed request body' } },
    });
  });

  it('ignores a body sent without Content-Type, like Cinder, so a required body is missing', async () => {
    const res = await app().request('/things', { method: 'POST', body: new TextEncoder().encode('{"thing":{"size":1}}') });
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect((await fault(res)).status).toBe(400);
    const del = await app().request('/things', { method: 'DELETE', body: new TextEncoder().encode('garbage') });
    expect(await del.json()).toEqual({ body: { present: false } });
  });

  it('names the field when the schema refuses the body', async () => {
    const res = await fault(await post(JSON.stringify({ thing: { size: 0 } })));
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/^Invalid input for field\/attribute thing\.size\. Value: 0\./);
    const extra = await fault(await post(JSON.stringify({ thing: { size: 1, colour: 'red' } })));
    expect(extra.body.badRequest.message).toBe("Additional properties are not allowed ('colour' was unexpected) in thing.");
    const missing = await fault(await post(JSON.stringify({ thing: {} })));
    expect(missing.body.badRequest.message).toBe("'size' is a required property in thing.");
    const top = await fault(await post(JSON.stringify([1])));
    expect(top.body.badRequest.message).toMatch(/^Invalid input for field\/attribute body\. Value: \[1\]\./);
  });
});

describe('body size limit', () => {
  const big = JSON.stringify({ thing: { size: 1, name: 'x'.repeat(70 * 1024) } });

  it('refuses more than 64 KiB by default with 413 overLimit', async () => {
    expect(await fault(await post(big))).toEqual({
      status: 413,
      body: { overLimit: { code: 413, message: 'Request is too large.' } },
    });
  });

  it('counts the bytes even without Content-Length (chunked)', async () => {
    const chunks = [big.slice(0, 40_000), big.slice(40_000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const req = new Request('http://localhost/things', {
      method: 'POST',
      body: stream,
      headers: { 'Content-Type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(req.headers.get('content-length')).toBeNull();
    expect((await app().request(req)).status).toBe(413);
  });

  it('is configurable', async () => {
    const body = JSON.stringify({ thing: { size: 1, name: 'x'.repeat(100) } });
    expect((await post(body, undefined, '/things', 64)).status).toBe(413);
    expect((await post(body, undefined, '/things', 1024)).status).toBe(202);
  });

  it('checks size before media type, like the sizelimit middleware in front of Cinder', async () => {
    expect((await post(big, { 'Content-Type': 'text/plain' })).status).toBe(413);
  });
});

describe('actions', () => {
  it('dispatches by the single key and validates with that schema', async () => {
    const res = await post(JSON.stringify({ 'os-b': { n: 3 } }), undefined, '/action');
    expect(await res.json()).toEqual({ action: 'os-b', body: { 'os-b': { n: 3 } } });
    const a = await post(JSON.stringify({ 'os-a': null }), undefined, '/action');
    expect(await a.json()).toEqual({ action: 'os-a', body: { 'os-a': null } });
  });

  it('refuses zero or several keys as malformed, unknown actions as Cinder does', async () => {
    for (const body of [{}, { 'os-a': null, 'os-b': { n: 1 } }, [], 'os-a', 3]) {
      expect(await fault(await post(JSON.stringify(body), undefined, '/action'))).toEqual({
        status: 400,
        body: { badRequest: { code: 400, message: 'Malformed request body' } },
      });
    }
    const res = await fault(await post(JSON.stringify({ 'os-nope': {} }), undefined, '/action'));
    expect(res.body.badRequest.message).toBe(
      'There is no such action: os-nope. Verify the request body and Content-Type header and try again.',
    );
  });

  it('peekAction accepts a list or a schema map', () => {
    expect(peekAction({ x: 1 }, ['x', 'y'])).toBe('x');
    expect(peekAction({ y: 1 }, { x: 0, y: 0 })).toBe('y');
  });
});
