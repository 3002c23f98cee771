// Assembles one service process: database (migrated), engine, manager, worker, runner and the
// HTTP app. Kept apart from main.ts so tests can start the very same service in-process.
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { createApp } from './api/app.js';
import type { ComputeClient } from './compute/compute-client.js';
import { UnconfiguredCompute } from './compute/unconfigured.js';
import { NovaComputeClient } from './compute/nova-client.js';
import { AgentStatusClient } from './compute/agent-status-client.js';
import { resolveAgentMode } from './compute/agent/hypervisor.js';
import { startComputeAgent } from './compute/agent/server.js';
import { checkQemuTools, createRemoteFsDriver } from './drivers/remotefs/index.js';
import { agentHooksOf, limitsOf, type Config } from './config.js';
import type { Db } from './db/client.js';
import { migrationsApplied, openMigrated } from './db/migrate.js';
import { WorkListener } from './db/work-listener.js';
import { BookkeepingDriver } from './drivers/bookkeeping.js';
import type { VolumeDriver } from './drivers/driver.js';
import { Engine, type CommittedTransition } from './engine/engine.js';
import { OutboxWorker } from './engine/outbox-worker.js';
import { Runner } from './engine/runner.js';
import { TransitionFeed } from './engine/transition-feed.js';
import { authConfigFrom, createAuthentication, type Authentication } from './http/auth/index.js';
import { loadPolicy } from './http/policy/index.js';
import { currentRequest, requestContextMiddleware } from './http/request-context/index.js';
import { urlHost } from './lib/url-host.js';
import { within } from './lib/within.js';
import { VolumeManager } from './manager/volume-manager.js';
import { startObservability, type Observability } from './observability/index.js';
import { children } from './qemu/child-processes.js';
import { uiRoutes } from './ui/routes.js';

export interface Service {
  config: Config;
  db: Db;
  engine: Engine;
  manager: VolumeManager;
  runner: Runner;
  app: ReturnType<typeof createApp>;
  logger: Logger;
  /** Every committed history row, read once for all its listeners (the web UI, the inspector). */
  feed: TransitionFeed;
  /** Metrics and the inspector (src/observability). */
  observability: Observability;
  /**
   * The first half of a stop, while the API still answers (the embedded agent's callbacks come
   * through it): claims no more work and lets the effects in hand and the embedded agent's live
   * operations finish for up to SHUTDOWN_GRACE_SECONDS; then interrupts what still runs (its
   * children are killed, its jobs handed back uncounted) and frees every job this process holds,
   * so the next start runs them at once. Never records a failure for what it cut short.
   */
  drain(): Promise<void>;
  /** Drains (if not done yet), then closes everything. */
  stop(): Promise<void>;
  /** PostgreSQL: the LISTEN session that wakes this instance for work other instances queue. */
  listener: WorkListener | null;
}

export interface ServiceParts {
  driver?: VolumeDriver;
  compute?: ComputeClient;
  logger?: Logger;
}

export async function buildService(config: Config, parts: ServiceParts = {}): Promise<Service> {
  const logger = parts.logger ?? pino({ level: config.LOG_LEVEL });
  // Refuse bad auth/policy settings before touching the database.
  const authConfig = authConfigFrom(config);
  const policy = loadPolicy(config.POLICY_FILE, { warn: (message) => logger.warn(message) });
  // One per process: /v3 and /ui share its token cache, and the compute token is its login.
  const auth = createAuthentication(authConfig);
  const { db, applied } = await openMigrated(config.DATABASE_URL);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const engine = new Engine(db, {
    maxBatch: config.COMMIT_BATCH_MAX,
    computeWaitSeconds: { create: config.COMPUTE_WAIT_CREATE_SECONDS, delete: config.COMPUTE_WAIT_DELETE_SECONDS },
  });
  engine.events.on('transition', (t: CommittedTransition) =>
    logger.info(
      // requestId: the API call that delivered the event (AsyncLocalStorage); none for workers.
      { snapshotId: t.snapshotId, version: t.version, fromPhase: t.fromPhase, phase: t.toPhase, status: t.toStatus, event: t.eventType, source: t.source, effects: t.effects, requestId: currentRequest()?.requestId, globalRequestId: currentRequest()?.globalRequestId },
      'snapshot transition',
    ),
  );
  engine.events.on('volumeTransition', (t) =>
    logger.info(
      { volumeId: t.volumeId, version: t.version, fromPhase: t.fromPhase, phase: t.toPhase, status: t.toStatus, event: t.eventType, source: t.source, effects: t.effects, requestId: currentRequest()?.requestId, globalRequestId: currentRequest()?.globalRequestId },
      'volume transition',
    ),
  );
  const driver = parts.driver ?? (await volumeDriver(config, auth));
  const computeSide = parts.compute ? { client: parts.compute, stop: async () => {} } : await computeFor(config, auth, driver, logger);
  const compute: ComputeClient = computeSide.client;
  const worker = new OutboxWorker(engine, driver, compute, {
    workerId: config.WORKER_ID,
    leaseMs: config.WORKER_LEASE_SECONDS * 1000,
    onRecordRetry: (err) => logger.warn({ err }, 'recording an effect result failed; retrying'),
    onInterrupted: (r, reason) => logger.warn({ snapshotId: r.snapshotId, volumeId: r.volumeId, kind: r.kind, jobId: r.jobId, error: reason }, 'effect interrupted; handed back'),
    onGuestResume: ({ error, ...info }) =>
      error ? logger.warn({ ...info, error }, 'guest resume failed; retrying') : logger.info(info, 'guest pause window closed: compute answered the resume'),
  });
  if (config.WORKER_ID) await worker.releaseOwnLeases();
  const runner = new Runner(engine, worker, {
    pollMs: config.WORKER_POLL_MS,
    concurrency: config.WORKER_CONCURRENCY,
    onError: (err) => logger.error({ err }, 'worker iteration failed; retrying'),
  });
  const manager = new VolumeManager(engine, driver, limitsOf(config), {
    identity: { host: config.SERVICE_HOST ?? hostname(), availabilityZone: 'nova' },
    requestId: () => currentRequest()?.requestId,
    guestPause: { supported: compute.guest !== undefined, byDefault: config.COMPUTE_AGENT_PAUSE_GUEST === '1' },
  });
  const unfollowMessages = manager.messages.follow((err) => logger.warn({ err }, 'recording a user message failed'));
  await manager.services.start((err) => logger.warn({ err }, 'service heartbeat failed; trying again at the next interval'));
  let draining: Promise<void> | null = null;
  // The committed history, for the web UI's streams and the inspector. A commit in this process
  // (or an answered write, which may have committed a rejection without a transition) pokes it
  // at once; its poll covers everything else.
  const feed = new TransitionFeed(engine.store, { pollMs: 1000, onError: (err) => logger.warn({ err }, 'transition feed read failed; retrying') });
  const pokeFeed = () => feed.poke();
  engine.events.on('transition', pokeFeed);
  engine.events.on('volumeTransition', pokeFeed);
  // Observability: metrics, and the inspector when INSPECT=1 / --inspect.
  const observability = await startObservability({
    store: engine.store,
    events: engine.events,
    feed,
    logger,
    inspectUrl: config.INSPECT ? config.INSPECT_URL : null,
    orphanFiles: () => manager.orphans.lastCount(),
  });
  const app = createApp({
    manager,
    authenticate: auth.middleware,
    policy,
    logger,
    requestContext: requestContextMiddleware({ onWriteAnswered: pokeFeed }),
    callbackMetrics: observability.callbackMetrics,
    readiness: {
      notReadyBecause: async () => {
        if (draining) return 'stopping';
        try {
          return (await migrationsApplied(db)) ? null : 'database migrations are not applied';
        } catch (err) {
          // The reason goes to the log only: /readyz answers anyone.
          logger.warn({ err }, 'readiness check: database unreachable');
          return 'database unreachable';
        }
      },
    },
  });
  // Prometheus text (unauthenticated, as scrapers expect; counts only) and the web UI, behind the
  // API's own authentication middleware instance.
  app.get('/metrics', observability.metricsHandler);
  app.route(
    '/ui',
    uiRoutes({
      store: engine.store,
      feed,
      authenticate: auth.middleware,
      policy,
      attention: { stuckAfterMs: config.UI_STUCK_AFTER_SECONDS * 1000, nearDeadlineMs: config.UI_NEAR_DEADLINE_SECONDS * 1000 },
      phaseDurations: observability.metrics.recentPhaseDurations,
    }),
  );
  // Other instances' commits reach this one as notifications (PostgreSQL); the runner's poll is
  // the fallback, and a reconnected listener polls at once for what it may have missed.
  const listener =
    db.provider === 'postgresql'
      ? new WorkListener(db.url, {
          onNotify: () => runner.poke(),
          onReconnect: () => {
            logger.info('work listener reconnected; looking for work');
            runner.poke();
          },
          onLost: (err) => logger.warn({ err }, 'work listener lost its connection; reconnecting (polling meanwhile)'),
        })
      : null;
  await listener?.start();
  runner.start();
  // Groups and group snapshots follow their children's steps; the sweep (now, then every few
  // polls) delivers their deadlines and makes good whatever a crash left unsaid between a
  // parent's commit and its children's (group-reactor.ts).
  const groupReactor = manager.groupReactor;
  groupReactor.start();
  const sweepGroups = () => void groupReactor.sweep().catch((err) => logger.warn({ err }, 'group sweep failed; retrying'));
  sweepGroups();
  const groupSweep = setInterval(sweepGroups, Math.max(1000, config.WORKER_POLL_MS * 5));
  groupSweep.unref();
  // Startup recovery's report: files nothing owns are logged and counted, never removed.
  void reportOrphans(manager, logger);
  const drain = () => (draining ??= drainWork({ runner, stopCompute: computeSide.stop, graceMs: config.SHUTDOWN_GRACE_SECONDS * 1000, logger }));
  return {
    config,
    db,
    engine,
    manager,
    runner,
    app,
    logger,
    feed,
    observability,
    listener,
    drain,
    async stop() {
      clearInterval(groupSweep);
      groupReactor.stop();
      await drain();
      await manager.services.stop();
      unfollowMessages();
      await groupReactor.idle();
      await listener?.stop();
      await engine.idle();
      observability.stop();
      engine.events.off('transition', pokeFeed);
      engine.events.off('volumeTransition', pokeFeed);
      await feed.stop();
      await db.close();
    },
  };
}

async function reportOrphans(manager: VolumeManager, logger: Logger): Promise<void> {
  if (!manager.orphans.supported) return;
  try {
    const { files } = await manager.scanOrphanFiles();
    for (const f of files) logger.warn({ file: f.name, size: f.size, why: f.why }, 'orphan file in the share (left in place)');
    logger.info({ orphanFiles: files.length }, 'orphan scan done');
  } catch (err) {
    logger.warn({ err }, 'orphan scan failed');
  }
}

/** How long interrupted effects get to record their hand-back before the stop goes on without them. */
const INTERRUPTED_SETTLE_MS = 10_000;

async function drainWork(o: { runner: Runner; stopCompute: () => Promise<void>; graceMs: number; logger: Logger }): Promise<void> {
  const { runner, logger } = o;
  runner.stopClaiming();
  // The effects first, then the agent: a compute request in hand is accepted, and the live part it
  // starts finishes (with its callback) within the same grace.
  const settled = runner.settled().then(o.stopCompute);
  if (!(await within(settled, o.graceMs))) {
    logger.warn({ graceSeconds: o.graceMs / 1000, effects: runner.inFlightCount, children: children.size }, 'shutdown grace over; interrupting what still runs');
    await children.interrupt();
    if (!(await within(settled, INTERRUPTED_SETTLE_MS))) logger.warn({ effects: runner.inFlightCount }, 'effects still running after the interrupt; leaving them to the next start');
  }
  try {
    const freed = await runner.handBack();
    if (freed > 0) logger.info({ jobs: freed }, 'handed back the jobs still held');
  } catch (err) {
    // The database is gone too: the leases run out instead (WORKER_ID makes the next start take them back at once).
    logger.warn({ err }, 'could not hand back the jobs still held');
  }
}

async function volumeDriver(config: Config, auth: Authentication): Promise<VolumeDriver> {
  if (config.VOLUME_DRIVER === 'bookkeeping') return new BookkeepingDriver();
  // Say what to install at start, not at the first snapshot.
  await checkQemuTools({ binaries: ['qemu-img', 'qemu-io'] });
  const statusUrl = agentStatusUrl(config);
  return createRemoteFsDriver(config.REMOTEFS_SHARE, {
    ...(statusUrl ? { activeFileProbe: new AgentStatusClient({ baseUrl: statusUrl, tokenProvider: computeToken(config, auth) }) } : {}),
  });
}

/** Where compute's status extension is read, if anywhere: only the agent has one. */
export function agentStatusUrl(config: Config): string | null {
  if (config.COMPUTE_AGENT_STATUS_URL) return config.COMPUTE_AGENT_STATUS_URL;
  if (config.COMPUTE_URL) return null;
  return embeddedAgentUrl(config);
}

/** Where the embedded compute agent listens (its API under /v2.1, its status extension at the root). */
const embeddedAgentUrl = (config: Config) => `http://${urlHost(config.HOST)}:${config.COMPUTE_AGENT_PORT}`;

/**
 * The compute side: Nova at COMPUTE_URL, or else the embedded compute agent on the same share
 * (it calls this service back over HTTP, exactly as Nova would). Only the RemoteFS driver asks
 * compute for anything; the bookkeeping driver never does.
 */
async function computeFor(config: Config, auth: Authentication, driver: VolumeDriver, logger: Logger) {
  const token = computeToken(config, auth);
  // The guest pause extension lives beside the status extension: only the agent has either.
  const statusUrl = agentStatusUrl(config);
  const guest = statusUrl ? { guest: new AgentStatusClient({ baseUrl: statusUrl, tokenProvider: token }) } : {};
  if (config.COMPUTE_URL) return { client: new NovaComputeClient({ computeUrl: config.COMPUTE_URL, tokenProvider: token, ...guest }), stop: async () => {} };
  if (!driver.supportsAssistedSnapshots) return { client: new UnconfiguredCompute(), stop: async () => {} };
  const agent = await startComputeAgent({
    host: config.HOST,
    port: config.COMPUTE_AGENT_PORT,
    storageUrl: `http://${urlHost(config.HOST)}:${config.PORT}/v3/{project_id}`,
    projectId: config.COMPUTE_AGENT_PROJECT,
    // Under noauth the agent names itself (nova:<project>); otherwise it shares the service's token.
    tokenProvider: !auth.identity && !config.COMPUTE_TOKEN ? computeToken(config, auth, 'nova') : token,
    shareDir: config.REMOTEFS_SHARE,
    legacy: config.COMPUTE_AGENT_LEGACY === '1',
    mode: await resolveAgentMode(config.COMPUTE_AGENT_MODE),
    pauseGuest: config.COMPUTE_AGENT_PAUSE_GUEST === '1',
    ...(agentHooksOf(config) ? { hooks: agentHooksOf(config) } : {}),
    logger: logger.child({ component: 'compute-agent' }),
  });
  let closing: Promise<void> | null = null;
  return { client: new NovaComputeClient({ computeUrl: agent.url, tokenProvider: token, ...guest }), stop: () => (closing ??= agent.close()) };
}

/**
 * The token for calls between this service and compute: COMPUTE_TOKEN if set, else the
 * service's own Keystone token (the login the auth middleware uses too), else (noauth)
 * `<user>:<project>` naming who is calling.
 */
function computeToken(config: Config, auth: Authentication, noauthUser = 'cinder'): () => Promise<string> {
  if (config.COMPUTE_TOKEN) return async () => config.COMPUTE_TOKEN!;
  const identity = auth.identity;
  if (identity) return () => identity.token();
  return async () => `${noauthUser}:${config.COMPUTE_AGENT_PROJECT}`;
}
