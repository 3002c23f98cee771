// The Hono application: version discovery, then everything under /v3/{project_id} behind auth,
// policy and body checks. Errors of every layer become OpenStack faults in one place.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { InvalidRequest, NotFound } from '../manager/errors.js';
import type { VolumeManager } from '../manager/volume-manager.js';
import { authMiddleware, type AuthConfig } from './auth/index.js';
import { jsonBody } from './body.js';
import { badRequest, notFound, onApiError, onNotFound } from './faults.js';
import { openApiDocument } from './openapi.js';
import { assertProjectInPath, policyMiddleware, type Policy } from './policy/index.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { volumeRoutes } from './routes/volumes.js';
import { apiVersionMiddleware, versionsRoot, versionsV3 } from './version.js';

export interface AppOptions {
  manager: VolumeManager;
  auth: AuthConfig;
  policy: Policy;
  logger?: Logger;
  maxBodyBytes?: number;
  publicEndpoint?: string;
}

export function createApp(options: AppOptions) {
  const app = new Hono();
  const faults = onApiError({ logger: options.logger });
  app.onError((err, c) => {
    // The manager speaks in domain errors; they map to faults here and nowhere else.
    if (err instanceof InvalidRequest) return faults(badRequest(err.message), c);
    if (err instanceof NotFound) return faults(notFound(err.message), c);
    return faults(err, c);
  });
  app.notFound(onNotFound);
  app.use('*', apiVersionMiddleware());
  app.get('/', versionsRoot(options.publicEndpoint));
  app.get('/v3', versionsV3(options.publicEndpoint));
  app.get('/v3/', versionsV3(options.publicEndpoint));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  app.use('/v3/:project_id/*', authMiddleware(options.auth), policyMiddleware(options.policy), jsonBody({ maxBytes: options.maxBodyBytes }));
  app.use('/v3/:project_id/*', async (c, next) => {
    assertProjectInPath(c.var.auth, c.req.param('project_id')!);
    await next();
  });
  app.route('/v3/:project_id/volumes', volumeRoutes(options.manager));
  app.route('/v3/:project_id/snapshots', snapshotRoutes(options.manager));
  return app;
}
