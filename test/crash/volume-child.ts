// A service process for the volume crash test: it runs every volume's driver jobs and deletes
// every volume that is available, and SIGKILLs itself at the N-th passage through an injected
// crash point (inside a volume's transaction before commit, after commit, after the driver's
// effect before its result is recorded). Started as:
//   node --import tsx test/crash/volume-child.ts <databaseUrl> <journalDir> [<point>:<n>]
import { openDatabase } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { OutboxWorker } from '../../src/engine/outbox-worker.js';
import type { EngineHooks } from '../../src/engine/types.js';
import { VolumeManager } from '../../src/manager/volume-manager.js';
import { defaultLeaseMs, defaultLimits } from '../../src/config.js';
import { TestCompute, VolumeJournalDriver } from '../support/doubles.js';

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
const driver = new VolumeJournalDriver(false, `${dir}/driver`);
const worker = new OutboxWorker(engine, driver, new TestCompute(), { workerId: 'volume-crash-worker', leaseMs: defaultLeaseMs });
await worker.releaseOwnLeases();
const manager = new VolumeManager(engine, driver, defaultLimits);

for (let round = 0; round < 50; round++) {
  await worker.drain();
  const live = await db.prisma.volume.findMany({ where: { deleted: false }, orderBy: { createdAt: 'asc' } });
  if (live.length === 0) break;
  for (const v of live) if (v.status === 'available') await manager.deleteVolume(v.id);
}
const left = await db.prisma.volume.count({ where: { deleted: false } });
await db.close();
process.stdout.write(JSON.stringify({ left }));
