// Assembles one service process: database (migrated), engine, manager, worker, runner and the
// HTTP app. Kept apart from main.ts so tests can start the very same service in-process.
import pino, { type Logger } from 'pino';
import { createApp } from './api/app.js';
import { authConfigFromEnv } from './api/auth/index.js';
import { loadPolicy } from './api/policy/index.js';
import type { ComputeClient } from './compute/compute-client.js';
import { UnconfiguredCompute } from './compute/unconfigured.js';
import type { Config } from './config.js';
import { openDatabase, type Db } from './db/client.js';
import { migrateDeploy } from './db/migrate.js';
import { BookkeepingDriver } from './drivers/bookkeeping.js';
import type { VolumeDriver } from './drivers/driver.js';
import { Engine, type CommittedTransition } from './engine/engine.js';
import { OutboxWorker } from './engine/outbox-worker.js';
import { Runner } from './engine/runner.js';
import { VolumeManager } from './manager/volume-manager.js';

export interface Service {
  config: Config;
  db: Db;
  engine: Engine;
  manager: VolumeManager;
  runner: Runner;
  app: ReturnType<typeof createApp>;
  logger: Logger;
  stop(): Promise<void>;
}

export interface ServiceParts {
  driver?: VolumeDriver;
  compute?: ComputeClient;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export async function buildService(config: Config, parts: ServiceParts = {}): Promise<Service> {
  const env = parts.env ?? process.env;
  const logger = parts.logger ?? pino({ level: config.LOG_LEVEL });
  // Refuse bad auth/policy settings before touching the database.
  const auth = authConfigFromEnv(env, config.HOST);
  const policy = loadPolicy(env);
  await migrateDeploy(config.DATABASE_URL);
  const db = await openDatabase(config.DATABASE_URL);
  const engine = new Engine(db, {
    computeWaitSeconds: { create: config.COMPUTE_WAIT_CREATE_SECONDS, delete: config.COMPUTE_WAIT_DELETE_SECONDS },
  });
  engine.events.on('transition', (t: CommittedTransition) =>
    logger.info(
      { snapshotId: t.snapshotId, version: t.version, from: t.fromPhase, state: t.toPhase, status: t.toStatus, event: t.eventType, source: t.source, effects: t.effects },
      'snapshot transition',
    ),
  );
  const driver = parts.driver ?? new BookkeepingDriver();
  const compute = parts.compute ?? new UnconfiguredCompute();
  const worker = new OutboxWorker(engine, driver, compute, {
    workerId: config.WORKER_ID,
    leaseMs: config.WORKER_LEASE_SECONDS * 1000,
  });
  if (config.WORKER_ID) await worker.releaseOwnLeases();
  const runner = new Runner(engine, worker, {
    pollMs: config.WORKER_POLL_MS,
    onError: (err) => logger.error({ err }, 'worker iteration failed; retrying'),
  });
  const manager = new VolumeManager(engine, driver);
  const app = createApp({ manager, auth, policy, logger });
  runner.start();
  return {
    config,
    db,
    engine,
    manager,
    runner,
    app,
    logger,
    async stop() {
      await runner.stop();
      await db.close();
    },
  };
}
