// The Hono application: version discovery, then everything under /v3/{project_id} behind auth,
// policy and body checks. Errors of every layer become OpenStack faults in one place.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { InvalidRequest, NotFound } from '../manager/errors.js';
import type { VolumeManager } from '../manager/volume-manager.js';
import { authMiddleware, type AuthConfig } from './auth/index.js';
import { jsonBody } from './body.js';
import { badRequest, notFound, onApiError, onNotFound } from './faults.js';
import { isTransient } from '../engine/transient.js';
import { openApiDocument } from './openapi.js';
import { assertProjectInPath, policyMiddleware, type Policy } from './policy/index.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { volumeRoutes } from './routes/volumes.js';
import { apiVersionMiddleware, versionsRoot, versionsV3 } from './version.js';
// Observability (request ids, /metrics, /ui): see src/observability/index.ts.
import type { AppObservability } from '../observability/index.js';
import { requestContextMiddleware } from '../observability/request-context.js';

export interface AppOptions {
  manager: VolumeManager;
  auth: AuthConfig;
  policy: Policy;
  logger?: Logger;
  maxBodyBytes?: number;
  publicEndpoint?: string;
  /** Metrics and the web UI; absent where only the API is under test. */
  observability?: AppObservability;
}

export function createApp(options: AppOptions) {
  const app = new Hono();
  const faults = onApiError({ logger: options.logger, isUnavailable: isTransient });
  app.onError((err, c) => {
    // The manager speaks in domain errors; they map to faults here and nowhere else.
    if (err instanceof InvalidRequest) return faults(badRequest(err.message), c);
    if (err instanceof NotFound) return faults(notFound(err.message), c);
    return faults(err, c);
  });
  app.notFound(onNotFound);
  // Observability: first, so every reply (faults included) carries X-OpenStack-Request-Id.
  const obs = options.observability;
  app.use('*', obs?.requestContext ?? requestContextMiddleware());
  app.use('*', apiVersionMiddleware());
  app.get('/', versionsRoot(options.publicEndpoint));
  app.get('/v3', versionsV3(options.publicEndpoint));
  app.get('/v3/', versionsV3(options.publicEndpoint));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  // One instance, shared with /ui (observability), so both use the same Keystone token cache.
  const authenticate = authMiddleware(options.auth);
  app.use('/v3/:project_id/*', authenticate, policyMiddleware(options.policy), jsonBody({ maxBytes: options.maxBodyBytes }));
  app.use('/v3/:project_id/*', async (c, next) => {
    assertProjectInPath(c.var.auth, c.req.param('project_id')!);
    await next();
  });
  // Observability: counts callbacks by what the API answered; must be registered before the
  // snapshot routes to wrap them.
  if (obs) app.use('/v3/:project_id/snapshots/:id/action', obs.callbackMetrics);
  app.route('/v3/:project_id/volumes', volumeRoutes(options.manager));
  app.route('/v3/:project_id/snapshots', snapshotRoutes(options.manager));
  // Observability: Prometheus text (unauthenticated, as scrapers expect; counts only) and the UI.
  if (obs) {
    app.get('/metrics', obs.metrics);
    app.route('/ui', obs.ui(authenticate, options.policy));
  }
  return app;
}
