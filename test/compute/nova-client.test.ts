// NovaComputeClient against a real socket standing in for Nova: what goes over the wire, and
// which failures are retried.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NOVA_MICROVERSION, NovaComputeClient } from '../../src/compute/nova-client.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = { status: number; body?: unknown } | 'hang';

/** A fake Nova: records requests and answers from a script (then 200/204). */
async function startFakeNova(script: Reply[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const reply = script.shift() ?? { status: req.method === 'DELETE' ? 204 : 200, body: req.method === 'DELETE' ? undefined : { snapshot: { id: null, volumeId: 'v' } } };
      if (reply === 'hang') return; // never answers: the client's timeout must fire
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, text ? { 'Content-Type': 'application/json' } : {});
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2.1`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on: bind one, then release it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function client(computeUrl: string, extra: Partial<ConstructorParameters<typeof NovaComputeClient>[0]> = {}) {
  const sleeps: number[] = [];
  let tokens = 0;
  const c = new NovaComputeClient({
    computeUrl,
    tokenProvider: async () => `token-${++tokens}`,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { client: c, sleeps, tokens: () => tokens };
}

const createInfo = { snapshot_id: 'b1d2', type: 'qcow2', new_file: 'volume-a1.b1d2' };
const deleteInfo = { type: 'qcow2', volume_id: 'a1', file_to_merge: 'volume-a1.b1d2', merge_target_file: 'volume-a1' };

describe('NovaComputeClient', () => {
  it('sends the create exactly as Cinder does', async () => {
    const nova = await startFakeNova();
    cleanups.push(nova.close);
    await client(`${nova.url}/`).client.requestCreate('a1', createInfo);

    expect(nova.received).toHaveLength(1);
    const [r] = nova.received;
    expect(r!.method).toBe('POST');
    expect(r!.url).toBe('/v2.1/os-assisted-volume-snapshots');
    expect(JSON.parse(r!.body)).toEqual({ snapshot: { volume_id: 'a1', create_info: createInfo } });
    expect(r!.headers['x-openstack-nova-api-version']).toBe(NOVA_MICROVERSION);
    expect(NOVA_MICROVERSION).toBe('2.1');
    expect(r!.headers['x-auth-token']).toBe('token-1');
    expect(r!.headers['content-type']).toBe('application/json');
  });

  it('sends the delete with delete_info as url-encoded JSON and no body', async () => {
    const nova = await startFakeNova();
    cleanups.push(nova.close);
    await client(nova.url).client.requestDelete('b1d2', deleteInfo);

    const [r] = nova.received;
    expect(r!.method).toBe('DELETE');
    const url = new URL(r!.url, 'http://x');
    expect(url.pathname).toBe('/v2.1/os-assisted-volume-snapshots/b1d2');
    expect([...url.searchParams.keys()]).toEqual(['delete_info']);
    expect(JSON.parse(url.searchParams.get('delete_info')!)).toEqual(deleteInfo);
    expect(r!.url).toContain(`delete_info=${encodeURIComponent(JSON.stringify(deleteInfo))}`);
    expect(r!.body).toBe('');
    expect(r!.headers['x-openstack-nova-api-version']).toBe('2.1');
    expect(r!.headers['x-auth-token']).toBe('token-1');
  });

  it('keeps a null file_to_merge as JSON null', async () => {
    const nova = await startFakeNova();
    cleanups.push(nova.close);
    const info = { ...deleteInfo, file_to_merge: null, merge_target_file: null };
    await client(nova.url).client.requestDelete('b1d2', info);
    const url = new URL(nova.received[0]!.url, 'http://x');
    expect(JSON.parse(url.searchParams.get('delete_info')!)).toEqual(info);
  });

  it("reports Nova's 400 with its fault message and does not retry it", async () => {
    const message = 'No volume Block Device Mapping with id a1.';
    const nova = await startFakeNova([{ status: 400, body: { badRequest: { code: 400, message } } }]);
    cleanups.push(nova.close);
    const c = client(nova.url);
    await expect(c.client.requestCreate('a1', createInfo)).rejects.toThrow(`compute refused the create request: 400 ${message}`);
    expect(nova.received).toHaveLength(1);
    expect(c.sleeps).toEqual([]);
  });

  it('does not retry a 404 or a 5xx either: only transport failures are retried', async () => {
    const nova = await startFakeNova([
      { status: 404, body: { itemNotFound: { code: 404, message: 'Snapshot b1d2 could not be found.' } } },
      { status: 500, body: { computeFault: { code: 500, message: 'boom' } } },
    ]);
    cleanups.push(nova.close);
    const c = client(nova.url);
    await expect(c.client.requestDelete('b1d2', deleteInfo)).rejects.toThrow(
      'compute refused the delete request: 404 Snapshot b1d2 could not be found.',
    );
    await expect(c.client.requestDelete('b1d2', deleteInfo)).rejects.toThrow('compute refused the delete request: 500 boom');
    expect(nova.received).toHaveLength(2);
  });

  it('retries a refused connection a bounded number of times with growing backoff', async () => {
    const port = await deadPort();
    const c = client(`http://127.0.0.1:${port}/v2.1`, { attempts: 4, backoffMs: 100, maxBackoffMs: 250 });
    await expect(c.client.requestCreate('a1', createInfo)).rejects.toThrow(
      /compute unreachable for the create request after 4 attempt\(s\): ECONNREFUSED/,
    );
    expect(c.sleeps).toEqual([100, 200, 250]);
    // A fresh token per attempt: one that expired while backing off is not reused.
    expect(c.tokens()).toBe(4);
  });

  it('succeeds on a later attempt once the connection works', async () => {
    const nova = await startFakeNova();
    cleanups.push(nova.close);
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (++calls === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) });
      return fetch(input, init);
    };
    const c = client(nova.url, { fetch: flaky, backoffMs: 7 });
    await c.client.requestCreate('a1', createInfo);
    expect(calls).toBe(2);
    expect(c.sleeps).toEqual([7]);
    expect(nova.received).toHaveLength(1);
  });

  it('times out a request Nova never answers, and retries it within the bound', async () => {
    const nova = await startFakeNova(['hang', 'hang']);
    cleanups.push(nova.close);
    const c = client(nova.url, { timeoutMs: 150, attempts: 2 });
    await expect(c.client.requestDelete('b1d2', deleteInfo)).rejects.toThrow(
      'compute unreachable for the delete request after 2 attempt(s): timed out',
    );
    expect(nova.received).toHaveLength(2);
  });

  it('does not retry errors that are not about the transport', async () => {
    const c = client('http://127.0.0.1:1/v2.1', {
      fetch: async () => {
        throw new TypeError('Invalid header value');
      },
    });
    await expect(c.client.requestCreate('a1', createInfo)).rejects.toThrow('Invalid header value');
    expect(c.sleeps).toEqual([]);
  });
});
