// A service process for crash tests: it drives every snapshot in the database through create and
// delete (answering compute requests itself, as a compute service would), and SIGKILLs itself at
// the N-th passage through an injected crash point. Started as:
//   node --import tsx test/crash/child.ts <databaseUrl> <journalDir> [<point>:<n>]
import { openDatabase } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { OutboxWorker } from '../../src/engine/outbox-worker.js';
import type { EngineHooks } from '../../src/engine/types.js';
import { VolumeManager } from '../../src/manager/volume-manager.js';
import { TestCompute, TestDriver } from '../support/doubles.js';
import { defaultLeaseMs, defaultLimits } from '../../src/config.js';

const [url, dir, crash] = process.argv.slice(2);
const [point, nth] = crash ? crash.split(':') : [undefined, undefined];
let passes = 0;
const maybeCrash = (here: string) => {
  if (here === point && ++passes === Number(nth)) process.kill(process.pid, 'SIGKILL');
};
const hooks: EngineHooks = {
  beforeCommit: () => maybeCrash('beforeCommit'),
  afterCommit: () => maybeCrash('afterCommit'),
  afterEffect: () => maybeCrash('afterEffect'),
};

const db = await openDatabase(url);
const engine = new Engine(db, { hooks });
const driver = new TestDriver(true, `${dir}/driver`);
const compute = new TestCompute(`${dir}/compute`);
// A stable worker id: a restarted process takes back the leases its killed predecessor held.
const worker = new OutboxWorker(engine, driver, compute, { workerId: 'crash-test-worker', leaseMs: defaultLeaseMs });
await worker.releaseOwnLeases();
const manager = new VolumeManager(engine, driver, defaultLimits);

for (let round = 0; round < 200; round++) {
  await worker.drain();
  const live = await db.prisma.snapshot.findMany({ where: { deleted: false }, orderBy: { createdAt: 'asc' } });
  if (live.length === 0) break;
  for (const s of live) {
    if (s.phase.endsWith('computeAssisted')) {
      const asked = await db.prisma.outboxJob.count({ where: { snapshotId: s.id, phase: s.phase, status: 'done' } });
      if (asked > 0) await manager.updateSnapshotStatus(s.id, { status: s.status, progress: '90%' });
    } else if (s.status === 'available') {
      await manager.deleteSnapshot(s.id);
    }
  }
}
const left = await db.prisma.snapshot.count({ where: { deleted: false } });
await db.close();
process.stdout.write(JSON.stringify({ left }));
