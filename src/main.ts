// `npm start`: one process serving the API with its workers. SIGTERM/SIGINT stop accepting
// connections, let in-flight requests and the job in hand finish, then close the database;
// everything not yet done is in the database and continues at the next start.
import { serve } from '@hono/node-server';
import { loadConfig } from './config.js';
import { buildService } from './service.js';

async function main() {
  const config = loadConfig(process.env, process.argv.slice(2));
  const service = await buildService(config);
  const server = serve({ fetch: service.app.fetch, hostname: config.HOST, port: config.PORT }, (info) =>
    service.logger.info({ url: `http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`, database: service.db.provider }, 'listening'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, 'draining');
    // The embedded agent finishes its live operations while this server can still take their callbacks.
    await service.stopCompute();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive connections would hold close() open forever; busy ones finish first.
      (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    });
    await service.stop();
    service.logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
