/**
 * `npm run compute-agent -- --share /srv/share [--port 8774] [--host 127.0.0.1]
 *   [--storage-url http://127.0.0.1:8776/v3/{project_id}] [--project-id admin] [--state-dir DIR] [--legacy]`
 *
 * The token sent to the storage service is COMPUTE_AGENT_TOKEN; without it, the noauth form
 * `nova:<project>` (fine against a service running with noauth on loopback, refused elsewhere).
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startComputeAgent } from './server.js';

const USAGE =
  'usage: compute-agent --share DIR [--port N] [--host H] [--storage-url URL] [--project-id ID] [--state-dir DIR] [--legacy]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8774' },
      host: { type: 'string', default: '127.0.0.1' },
      'storage-url': { type: 'string', default: 'http://127.0.0.1:8776/v3/{project_id}' },
      'project-id': { type: 'string', default: process.env.COMPUTE_AGENT_PROJECT_ID ?? 'admin' },
      share: { type: 'string' },
      'state-dir': { type: 'string' },
      legacy: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.share) throw new Error(`--share is required\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);

  const logger = pino({ name: 'compute-agent', level: process.env.LOG_LEVEL ?? 'info' });
  const projectId = values['project-id'];
  const token = process.env.COMPUTE_AGENT_TOKEN ?? `nova:${projectId}`;
  const agent = await startComputeAgent({
    host: values.host,
    port,
    storageUrl: values['storage-url'],
    projectId,
    tokenProvider: async () => token,
    shareDir: values.share,
    stateDir: values['state-dir'],
    legacy: values.legacy,
    logger,
  });
  logger.info({ url: agent.url }, 'compute agent ready');

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
