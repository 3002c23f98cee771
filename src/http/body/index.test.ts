import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonBody, jsonValueProblem, parseAction, parseBody, peekAction, readJsonBody, type JsonBodyOptions } from './index.js';
import { onApiError, onNotFound } from '../faults/index.js';

const schema = z.strictObject({ thing: z.strictObject({ size: z.int().min(1), name: z.string().optional() }) });

function app(maxBytes?: number, options: JsonBodyOptions = {}) {
  const a = new Hono();
  a.onError(onApiError());
  a.notFound(onNotFound);
  a.use('*', jsonBody({ maxBytes, ...options }));
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

describe('nesting depth', () => {
  /** `{"thing": [[[…]]]}`: the arrays plus the outer object make `depth` levels. */
  const nested = (depth: number, inner = '') => `{"thing":${'['.repeat(depth - 1)}${inner}${']'.repeat(depth - 1)}}`;
  const tooDeep = { status: 400, body: { badRequest: { code: 400, message: 'Malformed request body: JSON nested more than 32 levels deep.' } } };
  const roomy = 512 * 1024;
  const wide = app(roomy);

  // The other body path: under @hono/node-server the middleware reads Node's IncomingMessage.
  let base = '';
  let server: ReturnType<typeof serve>;
  beforeAll(async () => {
    server = serve({ fetch: wide.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const paths = {
    'a fetch Request': (body: string) => wide.request('/things', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }),
    "Node's IncomingMessage": (body: string) => fetch(`${base}/things`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }),
  };

  describe.each(Object.entries(paths))('read from %s', (_, send) => {
    it.each([33, 5_000, 100_000])('refuses %i levels with 400, not a stack overflow', async (depth) => {
      expect(await fault(await send(nested(depth)))).toEqual(tooDeep);
    });

    it('takes 32 levels to the schema', async () => {
      // Valid JSON at the limit: the schema, not the depth check, refuses it.
      const res = await fault(await send(nested(32)));
      expect(res.body.badRequest.message).toMatch(/^Invalid input for field\/attribute thing\./);
    });

    it('finds unstorable text at the limit, object keys included', async () => {
      for (const inner of ['"a\\u0000b"', '{"\\ud800":1}']) {
        const res = await fault(await send(nested(31, inner)));
        expect(res.body.badRequest.message).toMatch(/NUL characters .* or unpaired surrogates/);
      }
    });

    it('refuses a "__proto__" key anywhere, which a schema would drop without a word', async () => {
      for (const inner of ['{"__proto__":"x"}', '[{"a":{"__proto__":{}}}]']) {
        const res = await fault(await send(nested(20, inner)));
        expect(res.body.badRequest.message).toBe('Invalid input: the object key "__proto__" is not accepted.');
      }
      // Only the key: the same text as a value, or inside a longer key, is ordinary data.
      expect(jsonValueProblem(JSON.parse('{"a":"__proto__","__proto__x":1}'))).toBeNull();
    });
  });

  it('refuses 5,000 levels within the default 64 KiB, and a 100,000-level body there is too large first', async () => {
    expect(nested(5_000).length).toBeLessThan(64 * 1024);
    expect(await fault(await post(nested(5_000)))).toEqual(tooDeep);
    expect((await post(nested(100_000))).status).toBe(413);
  });

  it('is configurable', async () => {
    const send = (maxDepth: number, body: string) => app(undefined, { maxDepth }).request('/things', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    expect((await fault(await send(2, nested(3)))).body.badRequest.message).toBe('Malformed request body: JSON nested more than 2 levels deep.');
    expect((await fault(await send(40, nested(40)))).body.badRequest.message).toMatch(/^Invalid input for field\/attribute thing\./);
  });

  it('walks without recursion, so text 100,000 levels down is still checked', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`) as unknown;
    expect(jsonValueProblem(deep, Infinity)).toBe('unstorable_text');
    expect(jsonValueProblem(deep)).toBe('too_deep');
    expect(jsonValueProblem(JSON.parse(`${'['.repeat(100_000)}"ok"${']'.repeat(100_000)}`), Infinity)).toBeNull();
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
