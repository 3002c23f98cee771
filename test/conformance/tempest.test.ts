// OpenStack's own API test suite, Tempest (Debian's python3-tempest), run against this service the
// way an operator would: real Keystone, catalog entries, the service as its own process with
// AUTH_STRATEGY=keystone and the documented cinder-compatible policy file (scripts/tempest/run.sh).
// A failing Tempest test fails this one; a skipped test must skip for a reason the README's
// conformance table gives (scripts/tempest/skip-reasons.txt holds the same reasons, one per line).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { ensureKeystone } from '../support/keystone.js';
import { freePort } from '../support/ports.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Summary {
  modules: Record<string, { pass: number; fail: number; skip: number }>;
  total: { pass: number; fail: number; skip: number };
  failed: string[];
  skipped: { id: string; reason: string }[];
}

/** The reasons a Tempest test may skip for here, each a substring of Tempest's own skip message. */
function documentedSkipReasons(): string[] {
  return readFileSync(path.join(root, 'scripts', 'tempest', 'skip-reasons.txt'), 'utf8')
    .split('\n')
    .map((line) => line.split('#')[0]!.trim())
    .filter(Boolean);
}

beforeAll(async () => {
  await ensureKeystone();
}, 15 * 60_000);

it('tempest.api.volume: no test fails, and every skip has a documented reason', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tempest-'));
  const [port, agentPort] = [await freePort(), await freePort()];
  const run = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      'bash',
      [path.join(root, 'scripts', 'tempest', 'run.sh')],
      {
        cwd: root,
        env: { ...process.env, TEMPEST_DIR: dir, TEMPEST_SERVICE_PORT: String(port), TEMPEST_AGENT_PORT: String(agentPort) },
        timeout: 30 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
  const summary = JSON.parse(readFileSync(path.join(dir, 'log', 'summary.json'), 'utf8')) as Summary;
  const context = `${run.output}\n(workspace and logs: ${dir})`;
  expect(summary.failed, context).toEqual([]);
  expect(run.code, context).toBe(0);
  expect(summary.total.pass, context).toBeGreaterThan(0);
  const reasons = documentedSkipReasons();
  const undocumented = summary.skipped.filter((s) => !reasons.some((r) => s.reason.includes(r)));
  expect(undocumented, context).toEqual([]);
}, 35 * 60_000);
