// Request ids, as OpenStack services hand them out: every reply carries
// `X-OpenStack-Request-Id: req-<uuid>`, and whatever runs on behalf of the request (the engine's
// transition listeners included) can read the id back, so a transition log line names the API
// call that caused it. AsyncLocalStorage carries it because the engine knows nothing of HTTP.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export const REQUEST_ID_HEADER = 'X-OpenStack-Request-Id';

/** oslo.middleware's format; anything else a caller sends is not taken over. */
const REQUEST_ID_RE = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface RequestContext {
  requestId: string;
  /**
   * The caller's own request id (e.g. Nova's, on a callback), logged as oslo's
   * global_request_id; ours stays the one we generated, as Cinder does.
   */
  globalRequestId?: string;
  method: string;
  path: string;
  /** performance.now() when the request arrived, for latencies measured up to a later commit. */
  startedAt: number;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The request this code runs for, if any (workers and timers run outside of requests). */
export const currentRequest = (): RequestContext | undefined => storage.getStore();

export const newRequestId = () => `req-${randomUUID()}`;

export interface RequestContextOptions {
  /**
   * Called after a request that may have written something (any method but GET/HEAD) was
   * answered. A rejected event commits history without an engine 'transition' event, so this
   * is how live views hear of it without waiting for their next poll.
   */
  onWriteAnswered?: () => void;
}

export function requestContextMiddleware(options: RequestContextOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const ctx: RequestContext = {
      requestId: newRequestId(),
      ...(incoming && REQUEST_ID_RE.test(incoming) ? { globalRequestId: incoming } : {}),
      method: c.req.method,
      path: c.req.path,
      startedAt: performance.now(),
    };
    // Set before next(): an error answered by app.onError keeps headers already on the context.
    c.header(REQUEST_ID_HEADER, ctx.requestId);
    try {
      await storage.run(ctx, next);
    } finally {
      if (!c.res.headers.has(REQUEST_ID_HEADER)) c.res.headers.set(REQUEST_ID_HEADER, ctx.requestId);
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') options.onWriteAnswered?.();
    }
  };
}
