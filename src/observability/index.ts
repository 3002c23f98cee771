// The observability parts of one service process, assembled in one call from service.ts: metrics
// (listening to the engine's events) and, with INSPECT=1, the inspector (listening to the
// transition feed). Observability only listens: service.ts mounts what it serves (/metrics) and
// hands its middleware to the API; service.stop() calls stop().
import type { Handler, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { SnapshotStore } from '../engine/store/index.js';
import type { EngineEvents } from '../engine/engine.js';
import type { TransitionFeed } from '../engine/transition-feed.js';
import type { SnapshotInspector } from './inspector.js';
import { ServiceMetrics } from './metrics.js';

export interface Observability {
  metrics: ServiceMetrics;
  /** GET /metrics: Prometheus text. */
  metricsHandler: Handler;
  /** Counts compute callbacks by what the API answered; wraps the snapshot action route. */
  callbackMetrics: MiddlewareHandler;
  inspector: SnapshotInspector | null;
  stop(): void;
}

export interface ObservabilityOptions {
  store: SnapshotStore;
  events: EngineEvents;
  /** The service's one transition feed (the web UI reads it too). */
  feed: TransitionFeed;
  logger: Logger;
  /** Where the Stately inspector listens, when INSPECT is on; null: no inspector. */
  inspectUrl: string | null;
  /** The last orphan scan's count (null: none yet), for the orphan_files gauge. */
  orphanFiles?: () => number | null;
}

export async function startObservability(o: ObservabilityOptions): Promise<Observability> {
  const metrics = new ServiceMetrics(o.store, o.events, o.orphanFiles ? { orphanFiles: o.orphanFiles } : {});

  let inspector: SnapshotInspector | null = null;
  if (o.inspectUrl !== null) {
    const url = o.inspectUrl;
    // Loaded only when asked for: @statelyai/inspect and its WebSocket client cost every other
    // start about 30 ms and 2 MB.
    const { SnapshotInspector } = await import('./inspector.js');
    inspector = new SnapshotInspector(o.store, o.feed, { url, onError: (err) => o.logger.warn({ err }, 'inspector update failed') });
    // From the service's start on: whatever commits once this returns reaches the inspector.
    await o.feed.ready();
    o.logger.info({ url }, 'sending every persisted transition to the Stately inspector');
  }

  return {
    metrics,
    metricsHandler: metrics.handler(),
    callbackMetrics: metrics.callbackMiddleware(),
    inspector,
    stop() {
      inspector?.stop();
      metrics.stop();
    },
  };
}
