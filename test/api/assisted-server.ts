// A test entry point: the real service (buildService, the same HTTP server as src/main.ts), but
// with an assisted TestDriver and a TestCompute, so a snapshot of an attached volume really waits
// in `creating` for compute's callback. `npm start`'s bookkeeping driver cannot do that (every
// snapshot is single-phase there).
//
// Besides serving the API it writes one JSON line per event to stdout, which is how
// cinderclient.test.ts knows, without polling, when compute was asked and where a snapshot is:
//   {"snapshot": "<id>", "event": "compute.create" | "compute.delete"}
//   {"snapshot": "<id>", "event": "transition", "phase": "<phase>", "status": "<status>"}
//   {"volume": "<id>", "event": "transition", "phase": "<phase>", "status": "<status>"}
// Keep LOG_LEVEL=silent so stdout carries nothing else.
import { serve } from '@hono/node-server';
import { loadConfig } from '../../src/config.js';
import type { CommittedTransition } from '../../src/engine/engine.js';
import { buildService } from '../../src/service.js';
import { TestCompute, TestDriver } from '../support/doubles.js';

const announce = (line: Record<string, string>) => process.stdout.write(`${JSON.stringify(line)}\n`);

class AnnouncingCompute extends TestCompute {
  override async requestCreate(volumeId: string, createInfo: Record<string, unknown>) {
    await super.requestCreate(volumeId, createInfo);
    announce({ snapshot: String(createInfo.snapshot_id), event: 'compute.create' });
  }
  override async requestDelete(snapshotId: string, deleteInfo: Record<string, unknown>) {
    await super.requestDelete(snapshotId, deleteInfo);
    announce({ snapshot: snapshotId, event: 'compute.delete' });
  }
}

const config = loadConfig();
const service = await buildService(config, { driver: new TestDriver(true), compute: new AnnouncingCompute() });
service.engine.events.on('transition', (t: CommittedTransition) =>
  announce({ snapshot: t.snapshotId, event: 'transition', phase: t.toPhase, status: t.toStatus }),
);
service.engine.events.on('volumeTransition', (t) => announce({ volume: t.volumeId, event: 'transition', phase: t.toPhase, status: t.toStatus }));
const server = serve({ fetch: service.app.fetch, hostname: config.HOST, port: config.PORT });

const stop = () => {
  server.close();
  (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  void service.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
