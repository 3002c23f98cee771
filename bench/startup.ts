// `npm run bench:startup` (and part of `npm run bench`): how fast a (re)started service serves,
// and how much memory it holds idle, with 100,000 snapshot rows in its database, in three forms:
//   tsx       `tsx src/main.ts`: the sources compiled at run time (`npm run dev`, and what
//             `npm start` ran before the service shipped compiled);
//   plain     `node dist/src/main.js`: the tsc output alone;
//   compiled  `npm start`'s command: the same with the environment the start script sets
//             (MALLOC_ARENA_MAX=2), i.e. what ships.
//
//   npm run bench:startup -- [--provider sqlite|postgresql|both] [--rows 100000] [--runs 3] [--idle 10]
//                            [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--json out.json]
//
// Per provider: a fresh database, seeded with `--rows` snapshots waiting for compute (one real,
// the rest cloned in bulk: bench/seed.ts), then `--runs` rounds of: start each form (in turn,
// so that the machine's noise falls on all alike), time from spawn until GET /v3/ answers 200,
// and the CPU time its processes had used by then, leave it idle for `--idle` seconds reading
// VmRSS every second, SIGTERM it and time its exit.
// The service runs as bench/http.ts runs it (VOLUME_DRIVER=bookkeeping, LOG_LEVEL=warn).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cpuMsOf } from './lib/cpu.js';
import { freshDatabase, type BenchDatabase, type ProviderName } from './lib/databases.js';
import { round } from './lib/load.js';
import { printTables, type Row } from './lib/report.js';
import { freePort, ServiceProcess, tail, type ServiceForm } from './lib/service.js';
import { ensureBuilt } from '../scripts/build.js';
import { SEED_COMPUTE_WAIT_SECONDS, seedWaitingSnapshots } from './seed.js';

const { values: args } = parseArgs({
  options: {
    provider: { type: 'string', default: 'both' },
    rows: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    idle: { type: 'string', default: '10' },
    'admin-url': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    json: { type: 'string' },
  },
  strict: true,
});

function usage(bad: string): never {
  console.error(
    `bench:startup: bad argument ${bad}\nusage: npm run bench:startup -- [--provider sqlite|postgresql|both] [--rows 100000] [--runs 3] [--idle 10] [--json out.json]`,
  );
  process.exit(2);
}
const positive = (name: string, value: string | undefined) => {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : usage(`--${name} ${value}`);
};
const providers: ProviderName[] =
  args.provider === 'both' ? ['sqlite', 'postgresql'] : args.provider === 'sqlite' || args.provider === 'postgresql' ? [args.provider] : usage(`--provider ${args.provider}`);
const ROWS = positive('rows', args.rows);
const RUNS = positive('runs', args.runs);
const IDLE_SECONDS = positive('idle', args.idle);
const FORMS: ServiceForm[] = ['tsx', 'plain', 'compiled'];
const HOST = '127.0.0.1';

const log = (msg: string) => console.error(`[bench:startup ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const mib = (kib: number) => round(kib / 1024, 1);

interface Run {
  provider: ProviderName;
  form: ServiceForm;
  rows: number;
  /** Spawn until GET /v3/ answered 200. */
  readyMs: number;
  /** CPU time the process tree had used by then: less at the mercy of a busy machine than readyMs. */
  cpuToReadyMs: number;
  /** VmRSS of the process running the service, IDLE_SECONDS after it first answered. */
  idleRssMiB: number;
  /** The most it held during those seconds. */
  peakRssMiB: number;
  /** The same for every process of the tree (tsx's wrapper included). */
  idleTreeMiB: number;
  /** SIGTERM until exit. */
  stopMs: number;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'bench-startup-'));
const databases: BenchDatabase[] = [];
let service: ServiceProcess | null = null;
async function cleanup() {
  await service?.stop(10_000).catch(() => {});
  service = null;
  for (const db of databases.splice(0)) await db.drop().catch((err) => log(`could not drop ${db.provider} database: ${err}`));
  rmSync(tmp, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the service, dropping databases, removing ${tmp}`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function once(provider: ProviderName, form: ServiceForm, env: Record<string, string>, port: number): Promise<Run> {
  const logFile = path.join(tmp, `service-${provider}-${form}.log`);
  const started = await ServiceProcess.start({ env, logFile, host: HOST, port, form }, { path: '/v3/', expectStatus: 200 });
  service = started.service;
  const cpuToReadyMs = cpuMsOf(service.rss().pids);
  let peak = 0;
  let last = service.rss();
  for (let s = 0; s < IDLE_SECONDS; s++) {
    await sleep(1000);
    last = service.rss();
    peak = Math.max(peak, last.serviceKiB);
  }
  const running = service;
  service = null;
  const stopMs = await running.stop();
  if (running.forced) log(`warning: the ${form} service did not exit within 30 s of SIGTERM:\n${tail(logFile, 20)}`);
  return {
    provider,
    form,
    rows: ROWS,
    readyMs: Math.round(started.readyMs),
    cpuToReadyMs,
    idleRssMiB: mib(last.serviceKiB),
    peakRssMiB: mib(peak),
    idleTreeMiB: mib(last.treeKiB),
    stopMs: Math.round(stopMs),
  };
}

async function runProvider(provider: ProviderName): Promise<Run[]> {
  const db = await freshDatabase(provider, tmp, args['admin-url']!, `startup-${provider}`);
  databases.push(db);
  log(`${provider}: seeding ${ROWS} waiting snapshots`);
  const t = performance.now();
  const seeded = await seedWaitingSnapshots(db.url, ROWS);
  log(`${provider}: seeded ${seeded.ids.length} in ${round((performance.now() - t) / 1000, 1)} s`);
  const port = await freePort();
  const env = {
    DATABASE_URL: db.url,
    HOST,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    VOLUME_DRIVER: 'bookkeeping',
    COMPUTE_AGENT_PORT: String(await freePort()),
    COMPUTE_WAIT_CREATE_SECONDS: String(SEED_COMPUTE_WAIT_SECONDS),
  };
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const form of FORMS) {
      const run = await once(provider, form, env, port);
      log(`${provider} ${form} #${i + 1}: serving after ${run.readyMs} ms (CPU ${run.cpuToReadyMs} ms); idle RSS ${run.idleRssMiB} MiB (tree ${run.idleTreeMiB} MiB); stopped in ${run.stopMs} ms`);
      runs.push(run);
    }
  }
  databases.splice(databases.indexOf(db), 1);
  await db.drop();
  return runs;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : round((s[mid - 1]! + s[mid]!) / 2, 1);
};
const spread = (xs: number[]) => `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})`;

// Measure the code in front of you: a dist/ older than the sources is rebuilt first.
ensureBuilt();
const loadBefore = loadavg().map((x) => round(x, 2));
log(`load average before: ${loadBefore.join(' ')} on ${cpus().length} cores`);
if (loadBefore[0]! > 0.5) log('warning: the machine is busy; other work competes with the service for CPU and the start times will show it');
const runs: Run[] = [];
try {
  for (const provider of providers) runs.push(...(await runProvider(provider)));
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  await cleanup();
  process.exit(1);
}
await cleanup();
const loadAfter = loadavg().map((x) => round(x, 2));

printTables(
  `Start and idle memory with ${ROWS} snapshot rows (${RUNS} run(s) each, median (min–max); ready = spawn until GET /v3/ answers 200; ` +
    'CPU to ready = user + system time of the process tree by then; ' +
    `RSS = VmRSS of the service process after ${IDLE_SECONDS} s idle, tree = with tsx's wrapper process)`,
  providers.flatMap((provider) =>
    FORMS.map((form): Row => {
      const mine = runs.filter((r) => r.provider === provider && r.form === form);
      return {
        provider,
        form: { compiled: 'npm start (compiled)', plain: 'node dist/src/main.js', tsx: 'tsx src/main.ts' }[form],
        rows: ROWS,
        'ready ms': spread(mine.map((r) => r.readyMs)),
        'CPU to ready ms': spread(mine.map((r) => r.cpuToReadyMs)),
        'idle RSS MiB': spread(mine.map((r) => r.idleRssMiB)),
        'peak RSS MiB': spread(mine.map((r) => r.peakRssMiB)),
        'tree RSS MiB': spread(mine.map((r) => r.idleTreeMiB)),
        'stop ms': spread(mine.map((r) => r.stopMs)),
      };
    }),
  ),
);
console.log(`\nload average (1/5/15 min) before: ${loadBefore.join(' ')}, after: ${loadAfter.join(' ')}`);
if (args.json) {
  writeFileSync(
    args.json,
    JSON.stringify({ options: { providers, rows: ROWS, runs: RUNS, idleSeconds: IDLE_SECONDS }, machine: { node: process.version, cpus: cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter }, runs }, null, 2),
  );
  console.log(`wrote ${args.json}`);
}
