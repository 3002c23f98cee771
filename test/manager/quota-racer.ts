// One of two processes racing creates in one project, for quotas.test.ts: it opens the database,
// says "ready", waits for "go" on stdin (so the parent releases both at the same moment without
// sleeping), fires every create at once and prints their outcomes as one JSON line.
//   node --import tsx test/manager/quota-racer.ts <databaseUrl> volumes|snapshots <count> <projectId> [volumeId]
import { createInterface } from 'node:readline';
import { defaultLimits } from '../../src/config.js';
import { openDatabase } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { VolumeManager } from '../../src/manager/volume-manager.js';
import { TestDriver } from '../support/doubles.js';

const [url, kind, count, projectId, volumeId] = process.argv.slice(2);
const db = await openDatabase(url);
const manager = new VolumeManager(new Engine(db), new TestDriver(), defaultLimits);
await manager.quotas.projectUsage(projectId); // connected before racing
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
await lines.next();
const create = () =>
  kind === 'volumes'
    ? manager.createVolume({ projectId, userId: 'racer', size: 1 })
    : manager.createSnapshot({ volumeId: volumeId!, projectId, userId: 'racer' });
const results = await Promise.all(Array.from({ length: Number(count) }, () => create().then(() => 'ok', (e: Error) => e.message)));
process.stdout.write(`${JSON.stringify(results)}\n`);
await db.close();
