// The middleware alone; test/service/request-ids.test.ts checks the ids through the whole service
// and in its transition log.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { badRequest, onApiError } from '../faults/index.js';
import { currentRequest, REQUEST_ID_HEADER, requestContextMiddleware, type RequestContextOptions } from './index.js';

const REQ_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function app(options?: RequestContextOptions) {
  const a = new Hono();
  a.onError(onApiError());
  a.use('*', requestContextMiddleware(options));
  a.get('/context', (c) => c.json(currentRequest() ?? null));
  a.post('/context', (c) => c.json(currentRequest() ?? null));
  a.get('/fault', () => {
    throw badRequest('no');
  });
  return a;
}

describe('request context', () => {
  it('answers every request, faults included, with its own X-OpenStack-Request-Id', async () => {
    const a = app();
    const replies = [await a.request('/context'), await a.request('/context'), await a.request('/fault')];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 400]);
    const ids = replies.map((r) => r.headers.get(REQUEST_ID_HEADER));
    for (const id of ids) expect(id).toMatch(REQ_ID);
    expect(new Set(ids).size).toBe(3);
  });

  it('the handler sees the id it answers with, with the method, the path and when it arrived', async () => {
    const before = performance.now();
    const res = await app().request('/context');
    const ctx = await res.json();
    expect(ctx).toMatchObject({ requestId: res.headers.get(REQUEST_ID_HEADER), method: 'GET', path: '/context' });
    expect(ctx.startedAt).toBeGreaterThanOrEqual(before);
    expect(ctx).not.toHaveProperty('globalRequestId');
    expect(currentRequest()).toBeUndefined();
  });

  it("keeps its own id when the caller sends one, and remembers the caller's as the global id", async () => {
    const theirs = 'req-11111111-2222-3333-4444-555555555555';
    const res = await app().request('/context', { headers: { [REQUEST_ID_HEADER]: theirs } });
    expect(res.headers.get(REQUEST_ID_HEADER)).toMatch(REQ_ID);
    expect(res.headers.get(REQUEST_ID_HEADER)).not.toBe(theirs);
    expect((await res.json()).globalRequestId).toBe(theirs);
    // Anything not in oslo's format is not taken over.
    const odd = await app().request('/context', { headers: { [REQUEST_ID_HEADER]: 'req-not-a-uuid' } });
    expect(await odd.json()).not.toHaveProperty('globalRequestId');
  });

  it('tells of answered writes, not of reads', async () => {
    let writes = 0;
    const a = app({ onWriteAnswered: () => writes++ });
    await a.request('/context');
    expect(writes).toBe(0);
    await a.request('/context', { method: 'POST' });
    expect(writes).toBe(1);
  });
});
