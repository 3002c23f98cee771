// `npm start`: one process serving the API with its workers. SIGTERM/SIGINT drain it: no more
// work is claimed, the effects in hand get SHUTDOWN_GRACE_SECONDS to finish (what is still running
// then is interrupted and handed back), then the server stops accepting connections, lets
// in-flight requests finish, and the database is closed; the process exits 0. Everything not yet
// done is in the database and continues at the next start. The children that do the work
// (qemu-img) run in process groups of their own, so a signal to this process's whole group, as
// systemd sends it, reaches only this process.
import { serve } from '@hono/node-server';
import { loadConfig } from './config.js';
import { urlHost } from './lib/url-host.js';
import { buildService } from './service.js';

async function main() {
  const config = loadConfig(process.env, process.argv.slice(2));
  const service = await buildService(config);
  const server = serve({ fetch: service.app.fetch, hostname: config.HOST, port: config.PORT }, (info) =>
    service.logger.info({ url: `http://${urlHost(info.address)}:${info.port}`, database: service.db.provider }, 'listening'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal, graceSeconds: config.SHUTDOWN_GRACE_SECONDS }, 'draining');
    // While this server still answers: the embedded agent's callbacks come through it.
    await service.drain();
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
