// /ui: a small web UI to watch volumes and snapshots move through their machines.
//
//   GET /ui, /ui/app.js, /ui/style.css   the page and its assets (static text from src/ui/,
//                                         no data in them, so no auth; nothing from a CDN)
//   GET /ui/api/session                   who the caller is; the auth handshake target
//   GET /ui/api/machine                   the statechart, read off `snapshotMachine` at runtime
//   GET /ui/api/volume-machine            the volume statechart, read off `volumeMachine`
//   GET /ui/elk.js                        elkjs (the statechart's layout engine), from node_modules
//   GET /ui/api/overview                  the volumes
//   GET /ui/api/snapshots                 one keyset page of snapshots, newest first; filters
//                                         status, phase, project, volume; `after` = next page
//   GET /ui/api/attention                 snapshots in error, near a deadline, or stuck
//   GET /ui/api/phase-durations           the last hour's phase durations (as /metrics sees them)
//   GET /ui/api/snapshots/:id             one snapshot with its transition history
//   GET /ui/api/volumes/:id               one volume with its transition history
//   GET /ui/api/events                    Server-Sent Events: every committed history row
//
// Everything under /ui/api passes the very same auth middleware instance as /v3 (same token
// cache) and the policy rule `snapshot:transitions` (admin by default), because it shows every
// project's history. The browser sends the token as X-Auth-Token on fetch() calls, and reads the
// event stream with fetch() as well, since EventSource cannot send headers. In noauth mode the
// page needs no token from the user: its first call goes without one, and noauth's legacy
// handshake answers with `X-Auth-Token: admin:admin`, which the page then uses. Under Keystone
// the same call answers 401 and the page asks for a token (`openstack token issue`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import { activePhases, errorStatuses, persistedPhases, snapshotStatuses } from '../../machines/derive.js';
import { snapshotMachine } from '../../machines/snapshot.js';
import { volumeMachine } from '../../machines/volume.js';
import { machineGraph } from '../../machines/graph.js';
import type { Snapshot, SnapshotTransition, Volume, VolumeTransition } from '../db/client.js';
import type { SnapshotStore } from '../engine/store/index.js';
import type { FeedBatch, TransitionFeed } from '../engine/transition-feed.js';
import { badRequest, notFound } from '../http/faults/index.js';
import { authorize, grantedByRole, policyMiddleware, type Policy } from '../http/policy/index.js';

const asset = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

export interface UiDependencies {
  /** What the UI reads; it writes nothing. */
  store: Pick<SnapshotStore, 'readOverview' | 'readSnapshotWindow' | 'readAttention' | 'findSnapshot' | 'readHistory' | 'findVolume' | 'readVolumeHistory'>;
  feed: TransitionFeed;
  /** The app's authentication middleware, shared with /v3. */
  authenticate: MiddlewareHandler;
  policy: Policy;
  /** How long an idle event stream waits before a keep-alive comment; proxies drop silent ones. */
  keepAliveMs?: number;
  /** The needs-attention view's thresholds (UI_STUCK_AFTER_SECONDS, UI_NEAR_DEADLINE_SECONDS). */
  attention: { stuckAfterMs: number; nearDeadlineMs: number };
  /** The recent phase durations, per phase: what /metrics' phase-duration histogram observed. */
  phaseDurations: { readonly windowSeconds: number; summary(now: Date): PhaseDurationRow[] };
}

/** One phase's bar in the chart: its observations within the window (seconds). */
export interface PhaseDurationRow {
  phase: string;
  count: number;
  mean: number;
  min: number;
  max: number;
  /** Per outcome (ok, error, admin, timeout): how many. */
  outcomes: Record<string, number>;
}

/** The page size of the snapshot list when the page asks for none, and the most it may ask. */
const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const ATTENTION_MAX = 200;

/** The newest history row, when it is a refusal: what the list's "rejected" badge shows. */
const rejectionOf = (t: SnapshotTransition | null) => (t?.rejected ? { event: t.eventType, reason: t.reason, at: t.createdAt.toISOString() } : null);

/** Why a snapshot is in the needs-attention view; several reasons may hold at once. */
function attentionReasons(s: Snapshot, now: number, o: { stuckAfterMs: number; nearDeadlineMs: number }): string[] {
  const reasons: string[] = [];
  if (errorStatuses.includes(s.status)) reasons.push('error');
  if (s.deadlineAt && s.deadlineAt.getTime() <= now + o.nearDeadlineMs) reasons.push('deadline');
  if (activePhases.includes(s.phase) && s.phaseEnteredAt.getTime() <= now - o.stuckAfterMs) reasons.push('stuck');
  return reasons;
}

/** elkjs' browser bundle (layout engine and its fake worker in one file), read on first use. */
let elkBundle: string | null = null;
const elkScript = () => (elkBundle ??= readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js'), 'utf8'));

function oneOf(name: string, value: string | undefined, allowed: readonly string[]): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value)) throw badRequest(`Invalid ${name} '${value}': must be one of ${allowed.join(', ')}.`);
  return value;
}

export const snapshotSummary = (s: Snapshot) => ({
  id: s.id,
  name: s.name,
  volumeId: s.volumeId,
  projectId: s.projectId,
  status: s.status,
  phase: s.phase,
  progress: s.progress,
  version: s.version,
  phaseEnteredAt: s.phaseEnteredAt.toISOString(),
  deadlineAt: s.deadlineAt?.toISOString() ?? null,
  errorReason: s.errorReason,
  createdAt: s.createdAt.toISOString(),
});

const volumeSummary = (v: Volume) => ({
  id: v.id,
  name: v.name,
  projectId: v.projectId,
  size: v.size,
  status: v.status,
  attachStatus: v.attachStatus,
  phase: v.phase,
  version: v.version,
  phaseEnteredAt: v.phaseEnteredAt.toISOString(),
  errorReason: v.errorReason,
});

const volumeHistoryEntry = (t: VolumeTransition) => ({
  id: t.id,
  volumeId: t.volumeId,
  version: t.version,
  fromPhase: t.fromPhase,
  toPhase: t.toPhase,
  event: t.eventType,
  source: t.source,
  payload: t.payload,
  rejected: t.rejected,
  reason: t.reason,
  at: t.createdAt.toISOString(),
});

export const historyEntry = (t: SnapshotTransition) => ({
  id: t.id,
  snapshotId: t.snapshotId,
  version: t.version,
  fromPhase: t.fromPhase,
  toPhase: t.toPhase,
  event: t.eventType,
  source: t.source,
  payload: t.payload,
  rejected: t.rejected,
  reason: t.reason,
  at: t.createdAt.toISOString(),
});

/** How often an idle stream checks that its server still serves. */
const CHECK_MS = 1000;

/**
 * False once the Node server that accepted this request was closed. main.ts drains on SIGTERM
 * with server.close(), which waits for open responses; an event stream never finishes by
 * itself, so it ends when it sees its server stop listening, and the drain can complete.
 */
function serverListening(c: Context): boolean {
  const env = c.env as { incoming?: { socket?: { server?: { listening?: boolean } } } } | undefined;
  return env?.incoming?.socket?.server?.listening !== false;
}

/** null: every project (the rule was granted through a role, e.g. admin); else the caller's. */
function projectScope(c: Context): string | null {
  authorize(c, 'snapshot:transitions');
  return grantedByRole(c, 'snapshot:transitions') ? null : c.var.auth.projectId;
}

export function uiRoutes(deps: UiDependencies): Hono {
  const { store, feed } = deps;
  const ui = new Hono();
  // Read once: the files are part of the service, and a restart picks up a change.
  const page = asset('index.html');
  const script = asset('app.js');
  const styles = asset('style.css');
  const graph = machineGraph(snapshotMachine);
  const volumeGraph = machineGraph(volumeMachine);
  const noStore = { 'Cache-Control': 'no-store' };

  ui.get('/', (c) => c.html(page, 200, noStore));
  ui.get('/app.js', (c) => c.body(script, 200, { ...noStore, 'Content-Type': 'text/javascript; charset=utf-8' }));
  // Served from the service itself: the page loads nothing from another host. The file is part
  // of the installed package, so it may be cached.
  ui.get('/elk.js', (c) => c.body(elkScript(), 200, { 'Cache-Control': 'max-age=3600', 'Content-Type': 'text/javascript; charset=utf-8' }));
  ui.get('/style.css', (c) => c.body(styles, 200, { ...noStore, 'Content-Type': 'text/css; charset=utf-8' }));

  const api = new Hono();
  api.use('*', deps.authenticate, policyMiddleware(deps.policy));

  api.get('/session', (c) => {
    const scope = projectScope(c);
    return c.json({
      user: c.var.auth.userId,
      project: c.var.auth.projectId,
      scope: scope === null ? 'all projects' : `project ${scope}`,
      statuses: snapshotStatuses,
      phases: persistedPhases,
    });
  });

  api.get('/machine', (c) => {
    projectScope(c);
    return c.json(graph);
  });

  api.get('/volume-machine', (c) => {
    projectScope(c);
    return c.json(volumeGraph);
  });

  api.get('/volumes/:id', async (c) => {
    const scope = projectScope(c);
    const id = c.req.param('id');
    const volume = await store.findVolume(id);
    if (!volume || volume.deleted || (scope !== null && volume.projectId !== scope)) throw notFound(`Volume ${id} could not be found.`);
    const transitions = await store.readVolumeHistory(id);
    return c.json({ now: new Date().toISOString(), volume: volumeSummary(volume), transitions: transitions.map(volumeHistoryEntry) });
  });

  api.get('/overview', async (c) => {
    const scope = projectScope(c);
    const { volumes } = await store.readOverview(scope);
    return c.json({ now: new Date().toISOString(), volumes: volumes.map(volumeSummary) });
  });

  api.get('/snapshots', async (c) => {
    const scope = projectScope(c);
    const q = c.req.query();
    const limitText = q.limit ?? String(PAGE_SIZE);
    const take = Number(limitText);
    if (!/^\d+$/.test(limitText) || take < 1 || take > MAX_PAGE_SIZE) throw badRequest(`Invalid limit '${limitText}': must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
    const filters = {
      status: oneOf('status', q.status, snapshotStatuses),
      phase: oneOf('phase', q.phase, persistedPhases),
      projectId: q.project || undefined,
      volumeId: q.volume || undefined,
    };
    const page = await store.readSnapshotWindow({
      scope,
      filters: Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
      take,
      ...(q.after ? { after: q.after } : {}),
    });
    if (!page) throw badRequest(`Invalid after '${q.after}': no such snapshot.`);
    return c.json({
      now: new Date().toISOString(),
      snapshots: page.rows.map(({ snapshot, last }) => ({ ...snapshotSummary(snapshot), lastRejection: rejectionOf(last) })),
      next: page.next,
    });
  });

  api.get('/attention', async (c) => {
    const scope = projectScope(c);
    const thresholds = deps.attention;
    const now = Date.now();
    const rows = await store.readAttention({
      scope,
      errorStatuses,
      activePhases,
      deadlineBefore: new Date(now + thresholds.nearDeadlineMs),
      enteredBefore: new Date(now - thresholds.stuckAfterMs),
      take: ATTENTION_MAX,
    });
    return c.json({
      now: new Date(now).toISOString(),
      stuckAfterSeconds: thresholds.stuckAfterMs / 1000,
      nearDeadlineSeconds: thresholds.nearDeadlineMs / 1000,
      snapshots: rows.map(({ snapshot, last }) => ({
        ...snapshotSummary(snapshot),
        lastRejection: rejectionOf(last),
        reasons: attentionReasons(snapshot, now, thresholds),
      })),
    });
  });

  api.get('/phase-durations', (c) => {
    projectScope(c);
    const now = new Date();
    return c.json({ now: now.toISOString(), windowSeconds: deps.phaseDurations.windowSeconds, phases: deps.phaseDurations.summary(now) });
  });

  api.get('/snapshots/:id', async (c) => {
    const scope = projectScope(c);
    const id = c.req.param('id');
    const snapshot = await store.findSnapshot(id);
    if (!snapshot || (scope !== null && snapshot.projectId !== scope)) throw notFound(`Snapshot ${id} could not be found.`);
    const transitions = await store.readHistory(id);
    return c.json({ now: new Date().toISOString(), snapshot: snapshotSummary(snapshot), transitions: transitions.map(historyEntry) });
  });

  api.get('/events', async (c) => {
    const scope = projectScope(c);
    const keepAliveMs = deps.keepAliveMs ?? 15_000;
    const queue: FeedBatch[] = [];
    let wake: (() => void) | null = null;
    let open = true;
    const nudge = () => {
      wake?.();
      wake = null;
    };
    const unsubscribe = feed.subscribe(
      (batch) => {
        queue.push(batch);
        nudge();
      },
      () => {
        open = false;
        nudge();
      },
    );
    try {
      // Before answering: a database that cannot be reached is a 503 like on every other
      // route, not a stream that never says it is ready.
      await feed.started();
    } catch (err) {
      unsubscribe();
      throw err;
    }
    const response = streamSSE(c, async (stream) => {
      let lastWrite = Date.now();
      stream.onAbort(() => {
        open = false;
        nudge();
      });
      try {
        // Every commit from here on reaches this stream; the page loads its initial state
        // after this event, so nothing falls between the two.
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ now: new Date().toISOString() }) });
        while (open) {
          const batch = queue.shift();
          if (!batch) {
            const timedOut = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(true), CHECK_MS);
              wake = () => {
                clearTimeout(timer);
                resolve(false);
              };
            });
            if (!timedOut) continue;
            if (!serverListening(c)) break;
            if (Date.now() - lastWrite >= keepAliveMs) {
              await stream.write(': keep-alive\n\n');
              lastWrite = Date.now();
            }
            continue;
          }
          for (const { transition, snapshot } of batch.items) {
            if (scope !== null && snapshot?.projectId !== scope) continue;
            lastWrite = Date.now();
            await stream.writeSSE({
              event: 'transition',
              id: String(transition.id),
              data: JSON.stringify({ transition: historyEntry(transition), snapshot: snapshot ? snapshotSummary(snapshot) : null }),
            });
          }
          if (batch.volumesChanged) await stream.writeSSE({ event: 'volumes', data: '{}' });
        }
      } finally {
        unsubscribe();
      }
    });
    // One stream per connection: when it ends (service stopping), the connection goes too,
    // instead of idling in keep-alive and holding up a draining server.
    response.headers.set('Connection', 'close');
    return response;
  });

  ui.route('/api', api);
  return ui;
}
