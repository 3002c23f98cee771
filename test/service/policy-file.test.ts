// POLICY_FILE through the service src/service.ts builds: the rules it sets decide requests, a
// file in the deprecated role-list format is read with a warning in the service's log, and a
// bad rule stops the start, naming the rule and the column, before the database is touched.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildService } from '../../src/service.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { TestCompute, TestDriver } from '../support/doubles.js';

class LogLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    for (const text of chunk.toString().split('\n').filter(Boolean)) this.lines.push(JSON.parse(text) as Record<string, unknown>);
    done();
  }
}

let dir = '';
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'policy-file-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function start(policy: string, name: string, url: string) {
  const file = path.join(dir, name);
  await fs.writeFile(file, policy);
  const logs = new LogLines();
  const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: '0', VOLUME_DRIVER: 'bookkeeping', POLICY_FILE: file });
  const service = await buildService(config, { driver: new TestDriver(false), compute: new TestCompute(), logger: pino({ level: 'info' }, logs) });
  return { service, logs, file };
}

describe('POLICY_FILE in the service', () => {
  it('a YAML policy decides requests; the deprecated format is read with a warning in the log', async () => {
    const url = await freshDatabaseUrl('sqlite');
    const { service, logs, file } = await start('"snapshot:get_all": "!"\n"volume:get_all": ["admin"]\n', 'mixed.yaml', url);
    try {
      const snapshots = await service.app.request('/v3/demo/snapshots', { headers: { 'X-Auth-Token': 'me:demo' } });
      expect(snapshots.status).toBe(403);
      expect((await service.app.request('/v3/demo/volumes', { headers: { 'X-Auth-Token': 'me:demo' } })).status).toBe(200);
      expect(logs.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
        `policy file ${file}: rule "volume:get_all" is in the deprecated role-list format (["admin"]); it is read as "role:admin": write that instead`,
      ]);
    } finally {
      await service.stop();
    }
  });

  it('a rule that does not parse stops the start with its name and column, before the database is opened', async () => {
    // A database URL nothing answers: reaching it would be a different error.
    const url = 'postgresql://nobody@127.0.0.1:1/none';
    await expect(start('"snapshot:create": "rule:admin_api or (role:member"\n', 'bad.yaml', url)).rejects.toThrow(
      /rule "snapshot:create" at column 31: expected and, or or "\)" but found the end of the rule/,
    );
  });
});
