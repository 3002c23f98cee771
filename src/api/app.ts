// The Hono application: version discovery, then everything under /v3/{project_id} behind auth,
// policy and body checks. Errors of every layer become OpenStack faults in one place.
import { Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { Conflict, Forbidden, InvalidRequest, NotFound, OverLimit } from '../manager/errors.js';
import type { VolumeManager } from '../manager/volume-manager.js';
import { jsonBody } from '../http/body/index.js';
import { badRequest, conflict, forbidden, notFound, onApiError, onNotFound, requestEntityTooLarge } from '../http/faults/index.js';
import { isTransient } from '../engine/transient.js';
import { openApiDocument } from './openapi.js';
import { assertProjectInPath, policyMiddleware, type Policy } from '../http/policy/index.js';
import { requestContextMiddleware } from '../http/request-context/index.js';
import { healthRoutes, type Readiness } from './routes/health.js';
import { operatorRoutes } from './routes/operator.js';
import { groupTypeRoutes } from './routes/group-types.js';
import { groupRoutes, groupSnapshotRoutes } from './routes/groups.js';
import { orphanFileRoutes } from './routes/orphan-files.js';
import { qosSpecsRoutes } from './routes/qos-specs.js';
import { limitsRoutes, quotaClassSetRoutes, quotaSetRoutes } from './routes/quotas.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { transferRoutes } from './routes/transfers.js';
import { volumeRoutes } from './routes/volumes.js';
import { volumeTypeRoutes } from './routes/volume-types.js';
import { apiVersionMiddleware, versionsRoot, versionsV3 } from './version.js';

export interface AppOptions {
  manager: VolumeManager;
  /** Sets `c.var.auth` (src/http/auth); one instance per process, shared with /ui for one token cache. */
  authenticate: MiddlewareHandler;
  policy: Policy;
  logger?: Logger;
  maxBodyBytes?: number;
  publicEndpoint?: string;
  /** First middleware of every request; default one that only hands out request ids. */
  requestContext?: MiddlewareHandler;
  /** Wraps the snapshot action route after auth and body parsing (the service's callback metrics). */
  callbackMetrics?: MiddlewareHandler;
  /** What /readyz asks (the service's database and migrations, and whether it is stopping); default: always ready. */
  readiness?: Readiness;
}

export function createApp(options: AppOptions) {
  const app = new Hono();
  const faults = onApiError({ logger: options.logger, isUnavailable: isTransient });
  app.onError((err, c) => {
    // The manager speaks in domain errors; they map to faults here and nowhere else.
    if (err instanceof InvalidRequest) return faults(badRequest(err.message), c);
    if (err instanceof NotFound) return faults(notFound(err.message), c);
    if (err instanceof Conflict) return faults(conflict(err.message), c);
    if (err instanceof Forbidden) return faults(forbidden(err.message), c);
    if (err instanceof Conflict) return faults(conflict(err.message), c);
    // Cinder's quota errors say Retry-After: 0 (QuotaError.headers), in the header and the body.
    if (err instanceof OverLimit) return faults(requestEntityTooLarge(err.message, { 'Retry-After': '0' }), c);
    return faults(err, c);
  });
  app.notFound(onNotFound);
  // First, so every reply (faults included) carries X-OpenStack-Request-Id.
  app.use('*', options.requestContext ?? requestContextMiddleware());
  app.use('*', apiVersionMiddleware());
  app.get('/', versionsRoot(options.publicEndpoint));
  app.get('/v3', versionsV3(options.publicEndpoint));
  app.get('/v3/', versionsV3(options.publicEndpoint));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/', healthRoutes(options.readiness));

  app.use('/v3/:project_id/*', options.authenticate, policyMiddleware(options.policy), jsonBody({ maxBytes: options.maxBodyBytes }));
  app.use('/v3/:project_id/*', async (c, next) => {
    assertProjectInPath(c.var.auth, c.req.param('project_id')!);
    await next();
  });
  // Registered before the snapshot routes, to wrap them.
  if (options.callbackMetrics) app.use('/v3/:project_id/snapshots/:id/action', options.callbackMetrics);
  app.route('/v3/:project_id/volumes', volumeRoutes(options.manager));
  app.route('/v3/:project_id/snapshots', snapshotRoutes(options.manager));
  app.route('/v3/:project_id/os-orphan-files', orphanFileRoutes(options.manager));
  app.route('/v3/:project_id/types', volumeTypeRoutes(options.manager));
  app.route('/v3/:project_id/qos-specs', qosSpecsRoutes(options.manager));
  app.route('/v3/:project_id/os-quota-sets', quotaSetRoutes(options.manager));
  app.route('/v3/:project_id/os-quota-class-sets', quotaClassSetRoutes(options.manager));
  app.route('/v3/:project_id/limits', limitsRoutes(options.manager));
  app.route('/v3/:project_id', operatorRoutes(options.manager));
  app.route('/v3/:project_id/group_types', groupTypeRoutes(options.manager));
  app.route('/v3/:project_id/groups', groupRoutes(options.manager));
  app.route('/v3/:project_id/group_snapshots', groupSnapshotRoutes(options.manager));
  app.route('/v3/:project_id/os-volume-transfer', transferRoutes(options.manager));
  app.route('/v3/:project_id/volume-transfers', transferRoutes(options.manager, { since: '3.55' }));
  return app;
}
