// The observability parts of one service process, assembled in one call from service.ts:
// request ids, metrics, the transition feed behind the web UI, and (INSPECT=1) the inspector.
// createApp() mounts what `app` holds; service.stop() calls stop().
import type { Handler, Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Policy } from '../api/policy/index.js';
import type { Engine } from '../engine/engine.js';
import { uiRoutes } from '../ui/routes.js';
import { DEFAULT_INSPECT_URL, inspectRequested, SnapshotInspector } from './inspector.js';
import { ServiceMetrics } from './metrics.js';
import { requestContextMiddleware } from './request-context.js';
import { TransitionFeed } from './transition-feed.js';

/** What createApp() mounts; see src/api/app.ts. */
export interface AppObservability {
  /** First middleware of every request: the request id. */
  requestContext: MiddlewareHandler;
  /** On the snapshot action route, after auth and body parsing. */
  callbackMetrics: MiddlewareHandler;
  /** GET /metrics. */
  metrics: Handler;
  /** Routes under /ui, behind the app's own authentication middleware. */
  ui(authenticate: MiddlewareHandler, policy: Policy): Hono;
}

export interface Observability {
  app: AppObservability;
  metrics: ServiceMetrics;
  feed: TransitionFeed;
  inspector: SnapshotInspector | null;
  stop(): Promise<void>;
}

export interface ObservabilityOptions {
  engine: Engine;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  argv?: readonly string[];
  /** How often the feed reads history committed by other processes (default 1000 ms). */
  feedPollMs?: number;
}

export async function startObservability(o: ObservabilityOptions): Promise<Observability> {
  const metrics = new ServiceMetrics(o.engine);
  const feed = new TransitionFeed(o.engine.store, {
    pollMs: o.feedPollMs ?? 1000,
    onError: (err) => o.logger.warn({ err }, 'transition feed read failed; retrying'),
  });
  // A commit in this process is read at once; the poll covers everything else.
  const poke = () => feed.poke();
  o.engine.events.on('transition', poke);

  let inspector: SnapshotInspector | null = null;
  if (inspectRequested(o.env, o.argv ?? process.argv.slice(2))) {
    const url = o.env.INSPECT_URL?.trim() || DEFAULT_INSPECT_URL;
    inspector = new SnapshotInspector(o.engine.store, feed, { url, onError: (err) => o.logger.warn({ err }, 'inspector update failed') });
    // From the service's start on: whatever commits once this returns reaches the inspector.
    await feed.ready();
    o.logger.info({ url }, 'sending every persisted transition to the Stately inspector');
  }

  return {
    metrics,
    feed,
    inspector,
    app: {
      requestContext: requestContextMiddleware({ onWriteAnswered: poke }),
      callbackMetrics: metrics.callbackMiddleware(),
      metrics: metrics.handler(),
      ui: (authenticate, policy) => uiRoutes({ store: o.engine.store, feed, authenticate, policy }),
    },
    async stop() {
      o.engine.events.off('transition', poke);
      inspector?.stop();
      metrics.stop();
      await feed.stop();
    },
  };
}
