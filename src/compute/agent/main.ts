/**
 * `npm run compute-agent -- --share /srv/share [--port 8774] [--host 127.0.0.1]
 *   [--storage-url http://127.0.0.1:8776/v3/{project_id}] [--project-id admin] [--state-dir DIR] [--legacy]
 *   [--mode auto|qemu|file]`
 *
 * --mode overrides COMPUTE_AGENT_MODE (auto: a real QEMU per instance where qemu-system-x86_64
 * runs, else the offline file mode).
 * The token sent to the storage service is COMPUTE_AGENT_TOKEN; without it, the noauth form
 * `nova:<project>` (fine against a service running with noauth on loopback, refused elsewhere).
 * The project defaults to COMPUTE_AGENT_PROJECT; settings are read by src/config.ts.
 *
 * Fault injection, for end-to-end tests that run the agent as its own process (each maps to an
 * AgentFaults option and holds for the life of the process):
 *   --refuse-requests      os-assisted-volume-snapshots requests are answered 400
 *   --fail-live-part       the live part fails, reported as error / error_deleting
 *   --never-call-back      the live part runs, the storage service is never told
 *   --hang-live-part       requests are accepted, the live part never starts (a hung compute host;
 *                          stop the process with SIGKILL, SIGTERM waits for it)
 *   --drop-callbacks N     the first N callback attempts are lost; the retry delivers them
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { agentHooksOf, loadAgentConfig } from '../../config.js';
import { resolveAgentMode } from './hypervisor.js';
import { startComputeAgent } from './server.js';
import type { AgentFaults } from './types.js';

const USAGE =
  'usage: compute-agent --share DIR [--port N] [--host H] [--storage-url URL] [--project-id ID] [--state-dir DIR] [--legacy] [--mode auto|qemu|file]\n' +
  '  faults: [--refuse-requests] [--fail-live-part] [--never-call-back] [--hang-live-part] [--drop-callbacks N]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8774' },
      host: { type: 'string', default: '127.0.0.1' },
      'storage-url': { type: 'string', default: 'http://127.0.0.1:8776/v3/{project_id}' },
      'project-id': { type: 'string' },
      share: { type: 'string' },
      'state-dir': { type: 'string' },
      legacy: { type: 'boolean', default: false },
      mode: { type: 'string' },
      'refuse-requests': { type: 'boolean', default: false },
      'fail-live-part': { type: 'boolean', default: false },
      'never-call-back': { type: 'boolean', default: false },
      'hang-live-part': { type: 'boolean', default: false },
      'drop-callbacks': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // --mode is COMPUTE_AGENT_MODE given on the command line: the settings' schema checks it.
  const config = loadAgentConfig(values.mode === undefined ? process.env : { ...process.env, COMPUTE_AGENT_MODE: values.mode });
  if (!values.share) throw new Error(`--share is required\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);

  const dropCallbacks = Number(values['drop-callbacks']);
  if (!Number.isInteger(dropCallbacks) || dropCallbacks < 0) throw new Error(`--drop-callbacks must be a count, got ${values['drop-callbacks']}`);
  const faults: AgentFaults = {
    ...(values['refuse-requests'] ? { refuseRequests: true } : {}),
    ...(values['fail-live-part'] ? { failLivePart: true } : {}),
    ...(values['never-call-back'] ? { neverCallBack: true } : {}),
    ...(values['hang-live-part'] ? { beforeLivePart: () => new Promise<void>(() => {}) } : {}),
    ...(dropCallbacks > 0 ? { dropCallbacks } : {}),
  };
  const faultFlags = Object.entries(values)
    .filter(([k, v]) => ['refuse-requests', 'fail-live-part', 'never-call-back', 'hang-live-part'].includes(k) && v === true)
    .map(([k]) => k)
    .concat(dropCallbacks > 0 ? [`drop-callbacks=${dropCallbacks}`] : []);

  const logger = pino({ name: 'compute-agent', level: config.LOG_LEVEL });
  const projectId = values['project-id'] ?? config.COMPUTE_AGENT_PROJECT;
  const token = config.COMPUTE_AGENT_TOKEN ?? `nova:${projectId}`;
  const agent = await startComputeAgent({
    host: values.host,
    port,
    storageUrl: values['storage-url'],
    projectId,
    tokenProvider: async () => token,
    shareDir: values.share,
    stateDir: values['state-dir'],
    legacy: values.legacy,
    mode: await resolveAgentMode(config.COMPUTE_AGENT_MODE),
    pauseGuest: config.COMPUTE_AGENT_PAUSE_GUEST === '1',
    ...(agentHooksOf(config) ? { hooks: agentHooksOf(config) } : {}),
    faults,
    logger,
  });
  logger.info({ url: agent.url, legacy: values.legacy, mode: agent.agent.hypervisor.mode, faults: faultFlags }, 'compute agent ready');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping; waiting for accepted snapshot operations');
    agent.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
