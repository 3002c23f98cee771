// The storage side's reader of the agent's status extension (src/compute/agent-status-client.ts),
// against the real agent over real HTTP: what it returns, and that anything but the documented
// answer is an error (it is evidence, so it must not guess).
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStatusClient } from '../../src/compute/agent-status-client.js';
import { startComputeAgent, type RunningComputeAgent } from '../../src/compute/agent/server.js';
import { startFakeStorage, type FakeStorage } from '../support/fake-storage.js';
import { makeShare } from '../support/qemu-agent.js';

const SERVER = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const VOLUME = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

let storage: FakeStorage;
let share: { dir: string; remove: () => Promise<void> };
let agent: RunningComputeAgent;

beforeEach(async () => {
  storage = await startFakeStorage();
  share = await makeShare();
  await writeFile(path.join(share.dir, `volume-${VOLUME}`), '');
  storage.volumes.set(VOLUME, { name: `volume-${VOLUME}`, format: 'raw' });
  agent = await startComputeAgent({ port: 0, storageUrl: storage.url, tokenProvider: async () => 'nova:svc', shareDir: share.dir, logger: pino({ level: 'silent' }) });
});
afterEach(async () => {
  await agent.close();
  await storage.close();
  await share.remove();
});

describe('AgentStatusClient', () => {
  it('reads what the agent has open, from its base URL with or without /v2.1', async () => {
    const tokens: string[] = [];
    for (const baseUrl of [agent.url, agent.url.replace(/\/v2\.1$/, '')]) {
      const client = new AgentStatusClient({ baseUrl, tokenProvider: async () => (tokens.push('t'), 'cinder:svc') });
      expect(await client.activeFile(VOLUME)).toEqual({ activeFile: null, instanceId: null });
    }
    const res = await fetch(`${agent.url}/servers/${SERVER}/os-volume_attachments`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ volumeAttachment: { volumeId: VOLUME } }),
    });
    expect(res.status).toBe(200);
    const client = new AgentStatusClient({ baseUrl: agent.url, tokenProvider: async () => 'cinder:svc' });
    expect(await client.activeFile(VOLUME)).toEqual({ activeFile: `volume-${VOLUME}`, instanceId: SERVER });
    expect(tokens).toHaveLength(2);
  });

  it('fails on an answer that is not the documented one, and on a server that is not there', async () => {
    const bodies = [
      [404, '{"itemNotFound":{"code":404,"message":"no"}}', /answered 404/],
      [200, '{"active":{"volume_id":"someone-else","instance_id":null,"active_file":null}}', /unexpected body/],
      [200, '{"active":{"volume_id":"' + VOLUME + '","instance_id":null,"active_file":7}}', /unexpected body/],
    ] as const;
    for (const [status, body, error] of bodies) {
      const server = createServer((_req, res) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(body));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const client = new AgentStatusClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokenProvider: async () => 't' });
      await expect(client.activeFile(VOLUME)).rejects.toThrow(error);
      await new Promise((resolve) => server.close(resolve));
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(new AgentStatusClient({ baseUrl: `http://127.0.0.1:${port}`, tokenProvider: async () => 't' }).activeFile(VOLUME)).rejects.toThrow();
  });
});
