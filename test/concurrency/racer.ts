// One of two processes racing on the same PostgreSQL snapshot, driven by lines on stdin so the
// parent can release both at the same moment without sleeping:
//   "try <version> <label>"  offer one event computed from <version> (answers accepted/conflict)
//   "flood <n> <label>"      offer n events the normal way (re-read and retry on conflict)
// Each command answers one JSON line.
//   node --import tsx test/concurrency/racer.ts <databaseUrl> <snapshotId>
import { createInterface } from 'node:readline';
import { openDatabase } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import type { SnapshotEvent } from '../../machines/snapshot.js';

const [url, snapshotId] = process.argv.slice(2);
const db = await openDatabase(url);
const engine = new Engine(db);
await db.prisma.snapshot.findUniqueOrThrow({ where: { id: snapshotId } }); // connect before racing
const event = (label: string): SnapshotEvent => ({ type: 'compute.status', status: 'creating', computeStatus: 'in-progress', computeProgress: label });
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg, label] = line.split(' ');
  if (cmd === 'try') {
    const o = await engine.deliver({ snapshotId, event: event(label), source: 'compute', expectedVersion: Number(arg) });
    process.stdout.write(`${JSON.stringify({ kind: o.kind, version: o.kind === 'accepted' ? o.version : null })}\n`);
  } else if (cmd === 'flood') {
    const versions = [];
    let retried = 0;
    for (let i = 0; i < Number(arg); i++) {
      const o = await engine.deliver({ snapshotId, event: event(label), source: 'compute' });
      if (o.kind !== 'accepted') throw new Error(`lost an event: ${o.kind}`);
      versions.push(o.version);
      retried += o.attempts - 1;
    }
    process.stdout.write(`${JSON.stringify({ versions, retried })}\n`);
  } else break;
}
await db.close();
