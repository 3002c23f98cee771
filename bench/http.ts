// `npm run bench:http`: HTTP load on the real service, run as its own process exactly as
// `npm start` runs it (the compiled dist/src/main.js; `--form tsx`: `tsx src/main.ts`), driven by
// autocannon, on a fresh SQLite file and/or a fresh PostgreSQL database.
//
//   npm run bench:http -- [--provider sqlite|postgresql|both] [--duration 10] [--large] [--json out.json]
//                         [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--form compiled|plain|tsx]
//
// Scenarios (each: 1 s warm-up, not counted, then --duration seconds):
//   1. compute callbacks (os-update_snapshot_status, creating 50%) round-robin over 1,000
//      snapshots waiting in creating.computeAssisted, at 8 and 64 connections;
//   2. the same callbacks all on one waiting snapshot, at 8 and 64 connections;
//   3. GET /v3/{project}/snapshots/{id} round-robin over the 1,000, at 64 connections;
//   4. (--large) 100,000 waiting snapshots: the service's RSS after load, restart-to-serving
//      time, and callback latency at 64 connections spread over all of them (preceded, on the
//      same process, by the same load over the original 1,000, for a same-table baseline).
// The service runs with VOLUME_DRIVER=bookkeeping and LOG_LEVEL=warn; the seeded snapshots already
// wait for compute (bench/seed.ts), so no driver or compute work happens during the load.
// Between runs the bench waits until the service has finished the requests autocannon abandoned
// at the end of the previous one ("settle s", 1 s resolution), so runs do not bleed into each other.
// Per run it also reports CPU use (service process, this process, whole host) from /proc.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freshDatabase, type BenchDatabase, type ProviderName } from './lib/databases.js';
import { measureCpu } from './lib/cpu.js';
import { round, roundRobin, runLoad, type LoadResult } from './lib/load.js';
import { printTables, type Row } from './lib/report.js';
import { freePort, ServiceProcess, serviceForms, tail, type ServiceForm } from './lib/service.js';
import { ensureBuilt } from '../scripts/build.js';
import { addClones, census, openActivityProbe, SEED_COMPUTE_WAIT_SECONDS, seedWaitingSnapshots, type Census } from './seed.js';

const { values: args } = parseArgs({
  options: {
    provider: { type: 'string', default: 'both' },
    duration: { type: 'string', default: '10' },
    large: { type: 'boolean', default: false },
    json: { type: 'string' },
    'admin-url': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    // Another checkout (e.g. `git worktree add ../before <commit>`, with node_modules and
    // src/generated in place) whose service runs instead of this one: before/after in one run.
    'service-root': { type: 'string' },
    // compiled: `npm start`'s command (dist/, built by `npm install` / `npm run build`); plain:
    // node dist/src/main.js without the start script's environment; tsx: the sources compiled at
    // run time (`npm run dev`; a checkout from before dist/ existed). See bench/lib/service.ts.
    form: { type: 'string', default: 'compiled' },
  },
  strict: true,
});

const providers: ProviderName[] =
  args.provider === 'both' ? ['sqlite', 'postgresql'] : args.provider === 'sqlite' || args.provider === 'postgresql' ? [args.provider] : usage(`--provider ${args.provider}`);
const form = serviceForms.includes(args.form as ServiceForm) ? (args.form as ServiceForm) : usage(`--form ${args.form}`);
const duration = Number(args.duration);
if (!Number.isFinite(duration) || duration <= 0) usage(`--duration ${args.duration}`);
const WARMUP_SECONDS = 1;
const SMALL = 1_000;
const LARGE = 100_000;
const HOST = '127.0.0.1';

// Who calls: compute (Nova's role) calls back under its own project with `nova:service`; the
// snapshots' owner reads them under theirs. Under noauth every token is admin, and a path project
// must match the token's (assertProjectInPath), so each caller uses its own project in the path.
const COMPUTE = { project: 'service', headers: { 'X-Auth-Token': 'nova:service' } };
const OWNER_PROJECT = 'bench';
const OWNER = { project: OWNER_PROJECT, headers: { 'X-Auth-Token': `${OWNER_PROJECT}:${OWNER_PROJECT}` } };
const CALLBACK_BODY = JSON.stringify({ 'os-update_snapshot_status': { status: 'creating', progress: '50%' } });
const callbackPath = (id: string) => `/v3/${COMPUTE.project}/snapshots/${id}/action`;
const getPath = (id: string) => `/v3/${OWNER.project}/snapshots/${id}`;

function usage(bad: string): never {
  console.error(`bench:http: bad argument ${bad}\nusage: npm run bench:http -- [--provider sqlite|postgresql|both] [--duration 10] [--large] [--json out.json] [--form compiled|plain|tsx]`);
  process.exit(2);
}

const log = (msg: string) => console.error(`[bench:http ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const ms = (x: number) => Math.round(x);
const mib = (kib: number) => round(kib / 1024, 1);

interface LoadRow extends LoadResult {
  /**
   * Seconds from the end of the measured run until the service had finished the requests
   * autocannon abandoned when it stopped (history rows stop changing for SETTLE_QUIET_MS).
   */
  settleSeconds: number;
  scenario: string;
  provider: ProviderName;
  /** Snapshot rows in the database. */
  rows: number;
  /** How many of them the requests go to (round-robin). */
  snapshots: number;
  connections: number;
}

interface ServiceRow {
  provider: ProviderName;
  snapshots: number;
  seedSeconds: number;
  /** Spawn to the first answer of GET / (first start) or of GET snapshot = 200 (later starts). */
  firstStartMs: number;
  rssServiceMiB: number;
  rssTreeMiB: number;
  stopMs: number;
  startToServingMs: number;
  restartToServingMs: number;
}

// Everything to undo, whatever happens.
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-http-'));
let service: ServiceProcess | null = null;
let probe: Awaited<ReturnType<typeof openActivityProbe>> | null = null;
const databases: BenchDatabase[] = [];
let cleaning: Promise<void> | null = null;
let interrupted = false;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    const running = service;
    service = null;
    await running?.stop(10_000).catch(() => {});
    await probe?.close().catch(() => {});
    for (const db of databases.splice(0)) await db.drop().catch((err) => log(`could not drop ${db.provider} database: ${err}`));
    rmSync(tmp, { recursive: true, force: true });
  })());
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping the service, dropping databases, removing ${tmp}`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function startService(env: Record<string, string>, port: number, logFile: string, until: 'root' | string) {
  const { service: started, readyMs } = await ServiceProcess.start(
    { env, logFile, host: HOST, port, form, ...(args['service-root'] ? { root: path.resolve(args['service-root']) } : {}) },
    until === 'root' ? { path: '/' } : { path: getPath(until), headers: OWNER.headers, expectStatus: 200 },
  );
  service = started;
  // Opened only while the service runs: on SQLite, `prisma migrate deploy` (which the service
  // runs at every start) fails with "unknown variant SocketTimeout" while any other connection
  // has the file open, even an idle one.
  probe = await openActivityProbe(env.DATABASE_URL!);
  return readyMs;
}

const SETTLE_QUIET_MS = 1_000;
const SETTLE_LIMIT_MS = 120_000;

/**
 * When autocannon stops it drops its connections, but the service goes on with the requests it
 * had in hand (a callback may be retrying on a version conflict). The next scenario starts only
 * when those are done, so that it measures itself and not the tail of the one before.
 */
async function settle(): Promise<number> {
  const started = performance.now();
  let last = await probe!.historyRows();
  while (performance.now() - started < SETTLE_LIMIT_MS) {
    await sleep(SETTLE_QUIET_MS);
    const now = await probe!.historyRows();
    if (now === last) return (performance.now() - started - SETTLE_QUIET_MS) / 1000;
    last = now;
  }
  log(`warning: the service was still appending history ${SETTLE_LIMIT_MS / 1000} s after the load stopped`);
  return (performance.now() - started) / 1000;
}

async function load(scenario: string, provider: ProviderName, rows: number, ids: readonly string[], connections: number, kind: 'callback' | 'get'): Promise<LoadRow> {
  log(`${provider}: ${scenario} over ${ids.length} of ${rows} snapshot(s), ${connections} connections, ${duration} s`);
  const result = await runLoad({
    baseUrl: service!.baseUrl,
    connections,
    durationSeconds: duration,
    warmupSeconds: WARMUP_SECONDS,
    measure: () => measureCpu({ service: service!.rss().servicePid, bench: process.pid }),
    ...(kind === 'callback'
      ? { method: 'POST', body: CALLBACK_BODY, headers: COMPUTE.headers, nextPath: roundRobin(ids, callbackPath), expectStatus: 202 }
      : { method: 'GET', headers: OWNER.headers, nextPath: roundRobin(ids, getPath), expectStatus: 200 }),
  });
  const settleSeconds = round(await settle(), 1);
  if (settleSeconds > 0.5) log(`${provider}: the service finished abandoned requests ${settleSeconds} s after the run`);
  return { scenario, provider, rows, snapshots: ids.length, connections, ...result, settleSeconds };
}

function readRss(provider: ProviderName, snapshots: number) {
  const rss = service!.rss();
  log(`${provider}: ${snapshots} snapshots: VmRSS of the service (pid ${rss.servicePid}) ${mib(rss.serviceKiB)} MiB; whole tree (pids ${rss.pids.join(', ')}) ${mib(rss.treeKiB)} MiB`);
  return rss;
}

async function stopService(): Promise<number> {
  await probe?.close();
  probe = null;
  const stopping = service!;
  service = null;
  const stopMs = await stopping.stop();
  if (stopping.forced) log(`warning: the service did not exit within 30 s of SIGTERM and was killed (see its log below)`);
  return stopMs;
}

/** SIGTERM the service, start it again, and time until GET of a snapshot answers 200. */
async function restart(env: Record<string, string>, port: number, logFile: string, probeId: string) {
  const stopMs = await stopService();
  const startToServingMs = await startService(env, port, logFile, probeId);
  return { stopMs: ms(stopMs), startToServingMs: ms(startToServingMs), restartToServingMs: ms(stopMs + startToServingMs) };
}

async function runProvider(provider: ProviderName) {
  const loads: LoadRow[] = [];
  const services: ServiceRow[] = [];
  const db = await freshDatabase(provider, tmp, args['admin-url']!, `bench-${provider}`);
  databases.push(db);

  log(`${provider}: seeding ${SMALL} waiting snapshots`);
  let t = performance.now();
  const seeded = await seedWaitingSnapshots(db.url, SMALL, OWNER_PROJECT);
  const seedSeconds = round((performance.now() - t) / 1000, 2);
  log(`${provider}: seeded ${seeded.ids.length} in ${seedSeconds} s`);

  const [port, agentPort] = [await freePort(), await freePort()];
  const env = {
    DATABASE_URL: db.url,
    HOST,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    VOLUME_DRIVER: 'bookkeeping',
    COMPUTE_AGENT_PORT: String(agentPort),
    // The seeded snapshots' deadline is SEED_COMPUTE_WAIT_SECONDS away; the service agrees.
    COMPUTE_WAIT_CREATE_SECONDS: String(SEED_COMPUTE_WAIT_SECONDS),
  };
  const logFile = path.join(tmp, `service-${provider}.log`);
  const firstStartMs = await startService(env, port, logFile, 'root');
  log(`${provider}: service pid ${service!.child.pid} serving on ${service!.baseUrl} after ${ms(firstStartMs)} ms`);

  const one = [seeded.ids[0]!];
  loads.push(await load('callbacks spread', provider, SMALL, seeded.ids, 8, 'callback'));
  loads.push(await load('callbacks spread', provider, SMALL, seeded.ids, 64, 'callback'));
  loads.push(await load('callbacks one snapshot', provider, SMALL, one, 8, 'callback'));
  loads.push(await load('callbacks one snapshot', provider, SMALL, one, 64, 'callback'));
  loads.push(await load('GET spread', provider, SMALL, seeded.ids, 64, 'get'));
  const rssSmall = readRss(provider, SMALL);
  const restartSmall = await restart(env, port, logFile, seeded.ids[1]!);
  services.push({
    provider,
    snapshots: SMALL,
    seedSeconds,
    firstStartMs: ms(firstStartMs),
    rssServiceMiB: mib(rssSmall.serviceKiB),
    rssTreeMiB: mib(rssSmall.treeKiB),
    ...restartSmall,
  });

  let largeIds: string[] | null = null;
  if (args.large) {
    await stopService();
    log(`${provider}: seeding ${LARGE - SMALL} more waiting snapshots`);
    t = performance.now();
    largeIds = [...seeded.ids, ...(await addClones(db.url, seeded.template, LARGE - SMALL))];
    const largeSeedSeconds = round(seedSeconds + (performance.now() - t) / 1000, 2);
    log(`${provider}: ${largeIds.length} waiting snapshots after ${largeSeedSeconds} s of seeding in all`);
    const largeFirstStartMs = await startService(env, port, logFile, largeIds[largeIds.length - 1]!);
    // Same process, same table, first over the original 1,000 (a baseline that also warms the
    // freshly started process up), then over all 100,000.
    loads.push(await load('callbacks spread', provider, LARGE, seeded.ids, 64, 'callback'));
    loads.push(await load('callbacks spread', provider, LARGE, largeIds, 64, 'callback'));
    const rssLarge = readRss(provider, LARGE);
    const restartLarge = await restart(env, port, logFile, largeIds[largeIds.length - 2]!);
    services.push({
      provider,
      snapshots: LARGE,
      seedSeconds: largeSeedSeconds,
      firstStartMs: ms(largeFirstStartMs),
      rssServiceMiB: mib(rssLarge.serviceKiB),
      rssTreeMiB: mib(rssLarge.treeKiB),
      ...restartLarge,
    });
  }

  await stopService();
  const after: Census = await census(db.url);
  const problems = tail(logFile, 1_000)
    .split('\n')
    .filter((line) => line.trim() !== '');
  databases.splice(databases.indexOf(db), 1);
  await db.drop();
  return { loads, services, census: after, serviceLogLines: problems.length, serviceLogTail: problems.slice(-10) };
}

/** A pino line in one readable line: level, msg, and an error's message with its first frames. */
function summarizeLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; method?: string; path?: string; err?: { message?: string; stack?: string } };
    const frames = entry.err?.stack?.split('\n').slice(1, 4).map((f) => f.trim()).join(' < ') ?? '';
    const request = entry.method ? ` (${entry.method} ${entry.path})` : '';
    return `level ${entry.level} ${entry.msg ?? ''}${request}${entry.err ? `: ${entry.err.message} @ ${frames}` : ''}`.slice(0, 1200);
  } catch {
    return line.slice(0, 400);
  }
}

// The compiled form of this checkout is the code in front of you: rebuilt if older than the sources.
if (form !== 'tsx' && !args['service-root']) ensureBuilt();
const started = new Date();
const loadBefore = loadavg().map((x) => round(x, 2));
log(`load average before: ${loadBefore.join(' ')} on ${cpus().length} cores`);
if (loadBefore[0]! > 0.5) log('warning: the machine is busy; other work competes with the service for CPU and the figures will show it');
const perProvider: Record<string, Awaited<ReturnType<typeof runProvider>>> = {};
try {
  for (const provider of providers) perProvider[provider] = await runProvider(provider);
} catch (err) {
  if (!interrupted) console.error(err instanceof Error ? err.stack ?? err.message : err);
  await cleanup();
  process.exit(interrupted ? 130 : 1);
}
await cleanup();
const loadAfter = loadavg().map((x) => round(x, 2));

const loads = Object.values(perProvider).flatMap((p) => p.loads);
const services = Object.values(perProvider).flatMap((p) => p.services);

printTables(
  `HTTP load (${duration} s per run after ${WARMUP_SECONDS} s warm-up; ${cpus().length} cores shared by autocannon, the service and the database; ` +
    'service/bench CPU % = share of one core used by the service process / by this process (autocannon), host CPU % = share of all cores busy)',
  loads.map(
    (r): Row => ({
      scenario: r.scenario,
      provider: r.provider,
      rows: r.rows,
      snapshots: r.snapshots,
      connections: r.connections,
      'req/s': r.reqPerSec,
      'p50 ms': r.latencyP50ms,
      'p99 ms': r.latencyP99ms,
      'non-2xx': r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      'settle s': r.settleSeconds,
      'service CPU %': r.cpu?.processes.service,
      'bench CPU %': r.cpu?.processes.bench,
      'host CPU %': r.cpu?.hostBusyPercent,
    }),
  ),
);
printTables(
  'Service process (RSS read from /proc after the load; restart = SIGTERM until GET snapshot answers 200)',
  services.map(
    (s): Row => ({
      provider: s.provider,
      snapshots: s.snapshots,
      'seed s': s.seedSeconds,
      'first start ms': s.firstStartMs,
      'RSS MiB': s.rssServiceMiB,
      'RSS tree MiB': s.rssTreeMiB,
      'stop ms': s.stopMs,
      'start→200 ms': s.startToServingMs,
      'restart→200 ms': s.restartToServingMs,
    }),
  ),
);
for (const provider of providers) {
  const spread64 = (rows: number, snapshots: number) =>
    loads.find((r) => r.provider === provider && r.scenario === 'callbacks spread' && r.connections === 64 && r.rows === rows && r.snapshots === snapshots);
  const small = spread64(SMALL, SMALL);
  const subset = spread64(LARGE, SMALL);
  const large = spread64(LARGE, LARGE);
  if (small && large) {
    const vs = (a: LoadRow, b: LoadRow) => `p99 ${a.latencyP99ms} vs ${b.latencyP99ms} ms (x${round(a.latencyP99ms / b.latencyP99ms, 2)}), p50 ${a.latencyP50ms} vs ${b.latencyP50ms} ms, req/s ${a.reqPerSec} vs ${b.reqPerSec}`;
    console.log(`\n${provider}: callbacks at 64 connections spread over 100k (100k rows) vs over 1k (1k rows): ${vs(large, small)}`);
    if (subset) console.log(`${provider}: callbacks at 64 connections spread over 100k vs over 1k, both on the 100k-row table, same process: ${vs(large, subset)}`);
  }
}
for (const r of loads) {
  if (r.unexpected > 0 || r.errors > 0) {
    console.log(`\n${r.provider} / ${r.scenario} / ${r.snapshots} of ${r.rows} / ${r.connections} conn: status codes ${JSON.stringify(r.statusCodes)}, errors ${r.errors}, timeouts ${r.timeouts}`);
    for (const s of r.unexpectedSamples) console.log(`  e.g. ${s}`);
  }
}
for (const [provider, p] of Object.entries(perProvider)) {
  console.log(`\n${provider}: after the run: phases ${JSON.stringify(p.census.phases)}, history rows accepted ${p.census.transitionsAccepted} / rejected ${p.census.transitionsRejected}, outbox pending ${p.census.outboxPending}; service log: ${p.serviceLogLines} line(s) at LOG_LEVEL=warn`);
  for (const line of p.serviceLogTail) console.log(`  ${summarizeLogLine(line)}`);
}

console.log(`\nload average (1/5/15 min) before: ${loadBefore.join(' ')}, after: ${loadAfter.join(' ')}`);

if (args.json) {
  writeFileSync(
    args.json,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        options: { providers, durationSeconds: duration, warmupSeconds: WARMUP_SECONDS, large: args.large, snapshots: { small: SMALL, large: LARGE } },
        machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
        loads,
        services,
        census: Object.fromEntries(Object.entries(perProvider).map(([k, v]) => [k, v.census])),
        serviceLogTail: Object.fromEntries(Object.entries(perProvider).map(([k, v]) => [k, v.serviceLogTail])),
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${args.json}`);
}
