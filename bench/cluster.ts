// `npm run bench:cluster` (and the last part of `npm run bench`): 1, 2 and 3 instances of the
// service active-active on one fresh PostgreSQL database (the settings `npm run cluster` gives
// each, `npm start`'s compiled command, VOLUME_DRIVER=bookkeeping, LOG_LEVEL=warn), with the load
// spread over all of them:
//
//   1. callbacks/s and latency: compute callbacks (in-progress, as bench/http.ts sends them)
//      over 1,000 waiting snapshots, 64 connections split evenly over the instances (one
//      autocannon per instance, run together); req/s is their sum, p50/p99 the worst instance's;
//   2. handoff: 1,000 "compute done" callbacks (4 at a time, each to a random instance), each
//      committing the snapshot's move to storage-complete and queuing its driver phase; the
//      handoff is from that commit to the moment an instance claims the phase's job, read from
//      the database's own clock (a trigger on the outbox, installed in the bench database only),
//      for all jobs and for those claimed by another instance than the one that took the
//      callback. The instances poll only every 60 s here, so a handoff faster than that came from
//      a notification.
//
//   npm run bench:cluster -- [--instances 1,2,3] [--duration 10] [--admin-url postgresql://…]
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../scripts/build.js';
import { instanceEnv } from '../scripts/cluster.js';
import { freshDatabase, queryOnce as sql } from './lib/databases.js';
import { round, roundRobin, runLoad, type LoadResult } from './lib/load.js';
import { printTables, type Row } from './lib/report.js';
import { freePort, ServiceProcess } from './lib/service.js';
import { SEED_COMPUTE_WAIT_SECONDS, seedWaitingSnapshots } from './seed.js';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,2,3' },
    duration: { type: 'string', default: '10' },
    'admin-url': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
  },
  strict: true,
});
const counts = args.instances!.split(',').map(Number);
const duration = Number(args.duration);
const SNAPSHOTS = 1_000;
const CONNECTIONS = 64;
// Handoffs are measured at a moderate rate, not at saturation: what is timed is the wakeup, not
// a queue in front of the workers.
const HANDOFF_CALLERS = 4;
const HOST = '127.0.0.1';
const COMPUTE_HEADERS = { 'X-Auth-Token': 'nova:service' };
const callbackPath = (id: string) => `/v3/service/snapshots/${id}/action`;
const IN_PROGRESS = JSON.stringify({ 'os-update_snapshot_status': { status: 'creating', progress: '50%' } });
const DONE = JSON.stringify({ 'os-update_snapshot_status': { status: 'creating', progress: '90%' } });

const log = (msg: string) => console.error(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const quantile = (xs: number[], q: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!);

// The claim of a job, stamped by the database: from the row's created_at (the commit that queued
// it, on the same clock: the service writes its own clock, this host's) to the claim.
// The row's INSERT is stamped too, by the database inside the committing transaction: a closer
// lower bound of the commit than created_at, which the service sets when it plans the batch.
const CLAIM_TRIGGER = `
  CREATE TABLE bench_claims (job_id integer, kind text, snapshot_id text, claimed_by text, queued_at timestamp(3), claimed_at timestamp(6) DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'));
  CREATE TABLE bench_inserts (job_id integer PRIMARY KEY, inserted_at timestamp(6) DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'));
  CREATE FUNCTION bench_insert() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO bench_inserts (job_id) VALUES (NEW.id);
    RETURN NEW;
  END $$;
  CREATE TRIGGER bench_insert AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION bench_insert();
  CREATE FUNCTION bench_claim() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.locked_by IS NOT NULL AND OLD.locked_by IS DISTINCT FROM NEW.locked_by THEN
      INSERT INTO bench_claims (job_id, kind, snapshot_id, claimed_by, queued_at) VALUES (NEW.id, NEW.kind, NEW.snapshot_id, NEW.locked_by, NEW.created_at);
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER bench_claim AFTER UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION bench_claim();`;

/** Waits until the instances have finished the requests autocannon abandoned (history quiet for 1 s). */
async function settle(url: string) {
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const [{ n }] = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM snapshot_transitions');
    if (Number(n) === last) return;
    last = Number(n);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Instance {
  service: ServiceProcess;
  workerId: string;
}

async function startInstances(n: number, url: string, tmp: string, env: Record<string, string>): Promise<Instance[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const port = await freePort();
      const settings = {
        ...instanceEnv({ index: i + 1, databaseUrl: url, basePort: port - i, share: path.join(tmp, 'share'), driver: 'bookkeeping' }),
        LOG_LEVEL: 'warn',
        COMPUTE_WAIT_CREATE_SECONDS: String(SEED_COMPUTE_WAIT_SECONDS),
        ...env,
      };
      const { service } = await ServiceProcess.start({ env: settings, logFile: path.join(tmp, `instance-${n}-${i + 1}.log`), host: HOST, port }, { path: '/readyz', expectStatus: 200 });
      return { service, workerId: (settings as Record<string, string>).WORKER_ID! };
    }),
  );
}

/** Scenario 1: in-progress callbacks, 64 connections split over the instances, all at once. */
async function callbackLoad(instances: Instance[], ids: string[]) {
  const per = Math.max(1, Math.floor(CONNECTIONS / instances.length));
  // Each instance's autocannon takes its own slice of the snapshots, so no two hit one row.
  const slices = instances.map((_, k) => ids.filter((_, j) => j % instances.length === k));
  const results: LoadResult[] = await Promise.all(
    instances.map((inst, k) =>
      runLoad({ baseUrl: inst.service.baseUrl, method: 'POST', body: IN_PROGRESS, headers: COMPUTE_HEADERS, nextPath: roundRobin(slices[k]!, callbackPath), connections: per, durationSeconds: duration, warmupSeconds: 1, expectStatus: 202 }),
    ),
  );
  for (const [k, r] of results.entries()) {
    if (r.unexpected + r.errors > 0) log(`instance ${k + 1}: status codes ${JSON.stringify(r.statusCodes)}, errors ${r.errors}; e.g. ${r.unexpectedSamples.join(' | ').slice(0, 600)}`);
  }
  return {
    reqPerSec: round(results.reduce((s, r) => s + r.reqPerSec, 0), 0),
    p50: Math.max(...results.map((r) => r.latencyP50ms)),
    p99: Math.max(...results.map((r) => r.latencyP99ms)),
    unexpected: results.reduce((s, r) => s + r.unexpected + r.errors, 0),
  };
}

/** Scenario 2: each waiting snapshot gets its "done" callback from a random instance; handoffs from the trigger. */
async function handoff(instances: Instance[], ids: string[], url: string) {
  const receivedBy = new Map<string, string>();
  const latencies: number[] = [];
  let refused = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: HANDOFF_CALLERS }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const inst = instances[randomInt(instances.length)]!;
        receivedBy.set(id, inst.workerId);
        const t = performance.now();
        const res = await fetch(`${inst.service.baseUrl}${callbackPath(id)}`, { method: 'POST', headers: { ...COMPUTE_HEADERS, 'Content-Type': 'application/json' }, body: DONE });
        await res.arrayBuffer();
        latencies.push(performance.now() - t);
        if (res.status !== 202) refused++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Every queued storage-complete job has been claimed (bounded wait: they are claimed in ms).
  const deadline = Date.now() + 60_000;
  let claims: Array<{ snapshot_id: string; claimed_by: string; ms: number; from_insert_ms: number }> = [];
  while (Date.now() < deadline) {
    claims = await sql(
      url,
      `SELECT c.snapshot_id, c.claimed_by, EXTRACT(EPOCH FROM (c.claimed_at - c.queued_at)) * 1000 AS ms, EXTRACT(EPOCH FROM (c.claimed_at - i.inserted_at)) * 1000 AS from_insert_ms
       FROM bench_claims c JOIN bench_inserts i ON i.job_id = c.job_id WHERE c.kind = 'createSnapshotAssistedComplete' AND c.snapshot_id = ANY($1)`,
      [ids],
    );
    if (claims.length >= ids.length - refused) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const all = claims.map((c) => Number(c.ms));
  const fromInsert = claims.map((c) => Number(c.from_insert_ms));
  const cross = claims.filter((c) => c.claimed_by !== receivedBy.get(c.snapshot_id)).map((c) => Number(c.ms));
  return {
    callbacksPerSec: round(ids.length / seconds, 0),
    callbackP99: round(quantile(latencies, 0.99), 1),
    refused,
    claimed: claims.length,
    p50: round(quantile(all, 0.5), 1),
    p99: round(quantile(all, 0.99), 1),
    max: round(Math.max(...all), 1),
    insertP50: round(quantile(fromInsert, 0.5), 1),
    insertP99: round(quantile(fromInsert, 0.99), 1),
    crossCount: cross.length,
    crossP50: round(quantile(cross, 0.5), 1),
    crossP99: round(quantile(cross, 0.99), 1),
  };
}

async function runCount(n: number, tmp: string): Promise<Row> {
  const db = await freshDatabase('postgresql', tmp, args['admin-url']!, `cluster-${n}`);
  const instances: Instance[] = [];
  try {
    log(`${n} instance(s): seeding ${SNAPSHOTS * 2} waiting snapshots`);
    const seeded = await seedWaitingSnapshots(db.url, SNAPSHOTS * 2, 'bench');
    await sql(db.url, CLAIM_TRIGGER);
    const loadIds = seeded.ids.slice(0, SNAPSHOTS);
    const handoffIds = seeded.ids.slice(SNAPSHOTS);
    instances.push(...(await startInstances(n, db.url, tmp, { WORKER_POLL_MS: '60000' })));
    log(`${n} instance(s): in-progress callbacks, ${CONNECTIONS} connections split over ${n}, ${duration} s`);
    const load = await callbackLoad(instances, loadIds);
    await settle(db.url);
    log(`${n} instance(s): ${handoffIds.length} "done" callbacks to random instances, ${HANDOFF_CALLERS} at a time`);
    const h = await handoff(instances, handoffIds, db.url);
    const cpu = loadavg()[0]!;
    return {
      instances: n,
      'callbacks/s': load.reqPerSec,
      'p50 ms': load.p50,
      'p99 ms': load.p99,
      'non-202': load.unexpected,
      'done callbacks/s': h.callbacksPerSec,
      'done p99 ms': h.callbackP99,
      'handoff p50 ms': h.p50,
      'handoff p99 ms': h.p99,
      'handoff max ms': h.max,
      'from INSERT p50 ms': h.insertP50,
      'from INSERT p99 ms': h.insertP99,
      'cross-instance handoffs': h.crossCount,
      'cross p50 ms': h.crossP50,
      'cross p99 ms': h.crossP99,
      'load avg 1 min': round(cpu, 2),
    };
  } finally {
    await Promise.all(instances.map((i) => i.service.stop(15_000)));
    await db.drop();
  }
}

ensureBuilt();
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-cluster-'));
const rows: Row[] = [];
try {
  log(`load average before: ${loadavg().map((x) => round(x, 2)).join(' ')} on ${cpus().length} cores`);
  for (const n of counts) rows.push(await runCount(n, tmp));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
printTables(
  `Scale-out on PostgreSQL: N instances, load spread over all (${cpus().length} cores shared by the instances, PostgreSQL and the load generator; ` +
    `callbacks: ${CONNECTIONS} connections split over the instances, ${duration} s; handoff: commit of a "done" callback until an instance claims the next phase's job, polling every 60 s)`,
  rows,
);
