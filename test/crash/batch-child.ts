// A process that sends rounds of compute callbacks for every waiting snapshot at once (each round
// is one group commit) and SIGKILLs itself inside the transaction of the N-th event offered, in
// the middle of a batch. Every callback the engine acknowledged is appended to a file before the
// next round starts. Started as:
//   node --import tsx test/crash/batch-child.ts <databaseUrl> <ackFile> <rounds> [<crashAtEvent>]
import { appendFileSync } from 'node:fs';
import { defaultLimits } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { VolumeManager } from '../../src/manager/volume-manager.js';
import { TestDriver } from '../support/doubles.js';

const [url, ackFile, rounds, crashAt] = process.argv.slice(2);
let offered = 0;
const db = await openDatabase(url);
const engine = new Engine(db, {
  hooks: {
    beforeCommit: () => {
      if (crashAt && ++offered === Number(crashAt)) process.kill(process.pid, 'SIGKILL');
    },
  },
});
const manager = new VolumeManager(engine, new TestDriver(), defaultLimits);
const waiting = await db.prisma.snapshot.findMany({ where: { phase: 'creating.computeAssisted' }, orderBy: { id: 'asc' }, include: { volume: true } });
const start = Date.now();
for (let round = 1; round <= Number(rounds); round++) {
  const outcomes = await Promise.all(
    waiting.map((s) =>
      manager.updateSnapshotStatus(s.id, { status: 'creating', computeSnapshotStatus: 'in-progress', computeProgress: `${start}-${round}` }),
    ),
  );
  for (const o of outcomes) appendFileSync(ackFile, `${o.snapshotId} ${o.version} ${start}-${round}\n`);
}
await db.close();
process.stdout.write(JSON.stringify({ rounds: Number(rounds) }));
