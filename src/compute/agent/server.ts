/**
 * Starts the embedded compute agent: the Nova stand-in the service and its tests talk to.
 *
 *     const agent = await startComputeAgent({ port: 0, storageUrl, tokenProvider, shareDir });
 *     new NovaComputeClient({ computeUrl: agent.url, tokenProvider });
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import { AGENT_QEMU_RUN_DIR_NAME, AGENT_STATE_FILE_NAME } from '../../contracts/compute-agent-files.js';
import { urlHost } from '../../lib/url-host.js';
import { ComputeAgent } from './agent.js';
import { createComputeAgentApp } from './app.js';
import { CallbackSender } from './callbacks.js';
import { FileHypervisor, type AgentMode, type Hypervisor } from './hypervisor.js';
import { QemuHypervisor, type GuestHooks } from './qemu-hypervisor.js';
import { AgentState } from './state.js';
import { resolveStorageUrl, StorageClient } from './storage-client.js';
import type { AgentFaults, CallbackRetryOptions } from './types.js';

export interface ComputeAgentOptions {
  host?: string;
  /** 0 picks a free port (tests); default 8774, Nova's. */
  port?: number;
  /** The storage service's Cinder endpoint; `{project_id}` in it is filled from projectId. */
  storageUrl: string;
  projectId?: string;
  tokenProvider: () => Promise<string>;
  /** Where the volume files are (the mounted export). */
  shareDir: string;
  /** Directory for the agent's own state file; default the share. */
  stateDir?: string;
  /** Send the callbacks an unmodified Nova sends (status + progress "90%" only). */
  legacy?: boolean;
  /**
   * `qemu`: a real QEMU per instance holds its volumes, and the live part is QMP; `file` (the
   * default here; the settings choose `qemu` where qemu-system-x86_64 exists): offline qemu-img.
   */
  mode?: AgentMode;
  /** QEMU mode: pause the guest around each overlay switch (crash-consistent snapshots). */
  pauseGuest?: boolean;
  /** QEMU mode: the freeze/thaw hook pair run around the pause (QemuHypervisorOptions.hooks). */
  hooks?: GuestHooks;
  callbackRetry?: CallbackRetryOptions;
  faults?: AgentFaults;
  logger?: Logger;
  connector?: Record<string, unknown>;
  fetch?: typeof globalThis.fetch;
}

export interface RunningComputeAgent {
  /** Base URL of the compute API, `http://host:port/v2.1`: what COMPUTE_URL should be. */
  url: string;
  /** Waits for accepted snapshot operations (and their callbacks) to finish. */
  idle(): Promise<void>;
  /** Stops serving, waits for the operations in hand, and stops the instances' QEMUs. */
  close(): Promise<void>;
  agent: ComputeAgent;
  /**
   * Stops serving and drops the QMP connections without stopping any QEMU, as a crash of the
   * agent's process would (tests of an agent that starts again).
   */
  crash(): Promise<void>;
}

export interface ComputeAgentParts {
  app: Hono;
  agent: ComputeAgent;
  logger: Logger;
}

/** The agent without a listening socket: what `app.request()` tests and startComputeAgent share. */
export async function createComputeAgent(options: ComputeAgentOptions): Promise<ComputeAgentParts> {
  const logger = options.logger ?? pino({ name: 'compute-agent' });
  const shareDir = path.resolve(options.shareDir);
  const state = await AgentState.load(path.join(path.resolve(options.stateDir ?? shareDir), AGENT_STATE_FILE_NAME));
  const storage = new StorageClient({
    storageUrl: resolveStorageUrl(options.storageUrl, options.projectId),
    tokenProvider: options.tokenProvider,
    timeoutMs: options.callbackRetry?.timeoutMs,
    fetch: options.fetch,
  });
  let callbacksToDrop = options.faults?.dropCallbacks ?? 0;
  const callbacks = new CallbackSender({
    client: storage,
    retry: options.callbackRetry,
    logger,
    dropAttempt: () => callbacksToDrop-- > 0,
  });
  const stateDir = path.resolve(options.stateDir ?? shareDir);
  const hypervisor: Hypervisor =
    options.mode === 'qemu'
      ? new QemuHypervisor({
          shareDir,
          runDir: path.join(stateDir, AGENT_QEMU_RUN_DIR_NAME),
          logger,
          faults: options.faults,
          pauseGuest: options.pauseGuest ?? false,
          ...(options.hooks ? { hooks: options.hooks } : {}),
        })
      : new FileHypervisor(shareDir);
  const agent = new ComputeAgent({
    state,
    hypervisor,
    storage,
    callbacks,
    shareDir,
    legacy: options.legacy ?? false,
    faults: options.faults ?? {},
    logger,
    connector: options.connector,
  });
  await agent.resume();
  const app = createComputeAgentApp(agent, { logger });
  return { app, agent, logger };
}

export async function startComputeAgent(options: ComputeAgentOptions): Promise<RunningComputeAgent> {
  const { app, agent, logger } = await createComputeAgent(options);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8774 }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ host, port, shareDir: options.shareDir, legacy: options.legacy ?? false, mode: agent.hypervisor.mode }, 'compute agent listening');

  const stopServing = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Keep-alive sockets from clients would otherwise hold close() open.
      if ('closeAllConnections' in server) server.closeAllConnections();
    });
  return {
    url: `http://${urlHost(host)}:${port}/v2.1`,
    agent,
    idle: () => agent.idle(),
    close: async () => {
      await stopServing();
      await agent.idle();
      await agent.hypervisor.close();
    },
    crash: async () => {
      await stopServing();
      await agent.hypervisor.abandon();
    },
  };
}
