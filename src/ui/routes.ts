// /ui: a small web UI to watch volumes and snapshots move through their machines.
//
//   GET /ui, /ui/app.js, /ui/style.css   the page and its assets (static text from src/ui/,
//                                         no data in them, so no auth; nothing from a CDN)
//   GET /ui/api/session                   who the caller is; the auth handshake target
//   GET /ui/api/machine                   the statechart, read off `snapshotMachine` at runtime
//   GET /ui/api/volume-machine            the volume statechart, read off `volumeMachine`
//   GET /ui/api/overview                  volumes with their snapshots
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
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import { persistedPhases, snapshotStatuses } from '../../machines/derive.js';
import { snapshotMachine } from '../../machines/snapshot.js';
import { volumeMachine } from '../../machines/volume.js';
import { machineGraph } from '../../machines/graph.js';
import type { Snapshot, SnapshotTransition, Volume, VolumeTransition } from '../db/client.js';
import type { SnapshotStore } from '../engine/store/index.js';
import type { FeedBatch, TransitionFeed } from '../engine/transition-feed.js';
import { notFound } from '../http/faults/index.js';
import { authorize, grantedByRole, policyMiddleware, type Policy } from '../http/policy/index.js';

const asset = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

export interface UiDependencies {
  /** What the UI reads; it writes nothing. */
  store: Pick<SnapshotStore, 'readOverview' | 'findSnapshot' | 'readHistory' | 'findVolume' | 'readVolumeHistory'>;
  feed: TransitionFeed;
  /** The app's authentication middleware, shared with /v3. */
  authenticate: MiddlewareHandler;
  policy: Policy;
  /** How long an idle event stream waits before a keep-alive comment; proxies drop silent ones. */
  keepAliveMs?: number;
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
    const { volumes, snapshots } = await store.readOverview(scope);
    return c.json({ now: new Date().toISOString(), volumes: volumes.map(volumeSummary), snapshots: snapshots.map(snapshotSummary) });
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
