// What a load balancer asks: /healthz (the process answers HTTP) and /readyz (send it requests:
// its database answers and has every committed migration, and it is not stopping). Both are
// unauthenticated and say nothing about the data, as HAProxy's or Kubernetes' checks expect.
import { Hono } from 'hono';
import { serviceUnavailable } from '../../http/faults/index.js';

export interface Readiness {
  /** Why the instance should get no requests now, or null when it should. */
  notReadyBecause(): Promise<string | null>;
}

const alwaysReady: Readiness = { notReadyBecause: async () => null };

export function healthRoutes(readiness: Readiness = alwaysReady) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const reason = await readiness.notReadyBecause();
    if (reason !== null) throw serviceUnavailable(`Not ready: ${reason}`);
    return c.json({ status: 'ready' });
  });
  return app;
}
