// A stand-in for the storage service's Cinder API on a real socket: it records every request and
// answers the legacy attach actions and os-update_snapshot_status the way Cinder does. Tests wait
// on recorded callbacks through promises, never by sleeping.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface StatusCallback {
  snapshotId: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export type Answer = { status: number; body?: unknown };

export interface FakeStorage {
  /** `http://127.0.0.1:port/v3/<project>` */
  url: string;
  projectId: string;
  requests: RecordedRequest[];
  callbacks: StatusCallback[];
  /** connection_info.data per volume id, as os-initialize_connection will answer it. */
  volumes: Map<string, { name: string; format: string }>;
  /** Answers to use for the next status callbacks, in order, before falling back to 202. */
  callbackAnswers: Answer[];
  /** Answers per volume action name, consumed in order, before the default success. */
  actionAnswers: Map<string, Answer[]>;
  /** Resolves once at least `n` status callbacks have arrived. */
  waitForCallbacks(n: number): Promise<StatusCallback[]>;
  actions(volumeId?: string): { action: string; args: unknown }[];
  close(): Promise<void>;
}

export async function startFakeStorage(projectId = 'b0f7c9c6a8e14a2b9d6d0c5a3f1e2d4c'): Promise<FakeStorage> {
  const requests: RecordedRequest[] = [];
  const callbacks: StatusCallback[] = [];
  const volumes = new Map<string, { name: string; format: string }>();
  const callbackAnswers: Answer[] = [];
  const actionAnswers = new Map<string, Answer[]>();
  const waiters: { n: number; resolve: (c: StatusCallback[]) => void }[] = [];

  const notify = () => {
    for (const w of [...waiters]) {
      if (callbacks.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve([...callbacks]);
      }
    }
  };

  const prefix = `/v3/${projectId}`;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const reply = (answer: Answer) => {
        const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status, payload ? { 'Content-Type': 'application/json' } : {});
        res.end(payload);
      };

      const snap = new RegExp(`^${prefix}/snapshots/([^/]+)/action$`).exec(path);
      if (req.method === 'POST' && snap) {
        const answer = callbackAnswers.shift() ?? { status: 202 };
        const action = (body as Record<string, Record<string, unknown>>)['os-update_snapshot_status'];
        // Only acknowledged callbacks count as delivered; refused ones are still in `requests`.
        if (answer.status >= 200 && answer.status < 300 && action) {
          callbacks.push({ snapshotId: decodeURIComponent(snap[1]!), body: action, headers: req.headers });
        }
        reply(answer);
        notify();
        return;
      }
      const vol = new RegExp(`^${prefix}/volumes/([^/]+)/action$`).exec(path);
      if (req.method === 'POST' && vol) {
        const volumeId = decodeURIComponent(vol[1]!);
        const [action] = Object.keys(body as object);
        const queued = actionAnswers.get(action!)?.shift();
        if (queued) return reply(queued);
        if (action === 'os-initialize_connection') {
          const data = volumes.get(volumeId);
          if (!data) return reply({ status: 404, body: { itemNotFound: { code: 404, message: `Volume ${volumeId} could not be found.` } } });
          return reply({
            status: 200,
            body: { connection_info: { driver_volume_type: 'nfs', data: { ...data, export: '127.0.0.1:/srv/share' } } },
          });
        }
        return reply({ status: 202 });
      }
      reply({ status: 404, body: { itemNotFound: { code: 404, message: 'The resource could not be found.' } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    projectId,
    requests,
    callbacks,
    volumes,
    callbackAnswers,
    actionAnswers,
    waitForCallbacks: (n) =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        notify();
      }),
    actions: (volumeId) =>
      requests
        .filter((r) => r.path.includes('/volumes/') && (!volumeId || r.path.includes(`/volumes/${volumeId}/`)))
        .map((r) => {
          const [action] = Object.keys(r.body as object);
          return { action: action!, args: (r.body as Record<string, unknown>)[action!] };
        }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
