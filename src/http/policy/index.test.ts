import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAuthContext, type AuthContext } from '../auth/index.js';
import { onApiError } from '../faults/index.js';
import {
  assertProjectInPath,
  assertVisible,
  authorize,
  evaluate,
  grantedByRole,
  loadDefaultPolicy,
  loadPolicy,
  parsePolicy,
  POLICY_RULES,
  policyMiddleware,
  type Policy,
  type PolicyRule,
} from './index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'policy-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const who = (roles: string[], projectId = 'demo'): AuthContext => makeAuthContext({ userId: 'u', projectId, roles });

describe('policy loading', () => {
  it('the shipped defaults cover every rule', () => {
    const policy = loadDefaultPolicy();
    expect(Object.keys(policy).sort()).toEqual([...POLICY_RULES].sort());
    expect(policy['snapshot:update_snapshot_status']).toEqual(['admin', 'service']);
    expect(policy['snapshot:create']).toEqual(['project']);
    expect(policy['volume:reset_status']).toEqual(['admin']);
  });

  it('POLICY_FILE overrides only the rules it names', () => {
    const p = file('ok.json', JSON.stringify({ 'snapshot:create': ['Member', 'admin'], 'snapshot:reset_status': ['admin', 'project'] }));
    const policy = loadPolicy(p);
    expect(policy['snapshot:create']).toEqual(['member', 'admin']);
    expect(policy['snapshot:reset_status']).toEqual(['admin', 'project']);
    expect(policy['snapshot:delete']).toEqual(['project']);
  });

  it.each([
    ['missing.json', null, /POLICY_FILE .*missing\.json cannot be read/],
    ['broken.json', '{"snapshot:create": [', /is not valid JSON/],
    ['array.json', '[]', /must be a JSON object/],
    ['typo.json', '{"snapshot:craete": "project"}', /unknown rule\(s\) snapshot:craete/],
    ['badvalue.json', '{"snapshot:create": "everyone"}', /at "snapshot:create": must be "project" or a list of role names/],
    ['badrole.json', '{"snapshot:create": ["admin", ""]}', /at "snapshot:create\.1": role names must not be empty/],
    ['number.json', '{"snapshot:create": [1]}', /at "snapshot:create/],
  ])('%s fails clearly at start', (name, content, message) => {
    const p = content === null ? path.join(dir, name) : file(name, content);
    expect(() => loadPolicy(p)).toThrow(message);
  });

  it('a complete document parses without a base; an incomplete one does not', () => {
    const full = Object.fromEntries(POLICY_RULES.map((r) => [r, ['admin']]));
    expect(parsePolicy(full, 'test')['volume:get']).toEqual(['admin']);
    expect(() => parsePolicy({ 'volume:get': 'project' }, 'test')).toThrow(/missing rule\(s\)/);
  });
});

describe('policy decisions', () => {
  const policy = loadDefaultPolicy();

  it.each([
    [['admin'], 'snapshot:update_snapshot_status', 'role'],
    [['service'], 'snapshot:update_snapshot_status', 'role'],
    [['member'], 'snapshot:update_snapshot_status', false],
    [['reader'], 'snapshot:update_snapshot_status', false],
    [['member'], 'snapshot:create', 'project'],
    [['reader'], 'snapshot:get', 'project'],
    [[], 'snapshot:get', 'project'],
    [['admin'], 'snapshot:reset_status', 'role'],
    [['service'], 'snapshot:reset_status', false],
    [['member'], 'snapshot:force_delete', false],
    [['member'], 'snapshot:all_tenants', false],
    [['ADMIN'], 'volume:force_delete', 'role'],
  ] as const)('%j on %s -> %s', (roles, rule, expected) => {
    expect(evaluate(policy, who([...roles]), rule as PolicyRule)).toBe(expected);
  });

  function app(p: Policy, auth: AuthContext) {
    const a = new Hono();
    a.onError(onApiError());
    a.use('*', async (c, next) => {
      c.set('auth', auth);
      await next();
    });
    a.use('*', policyMiddleware(p));
    a.post('/:project/snapshots/:id/reset', (c) => {
      assertProjectInPath(c.var.auth, c.req.param('project'));
      // The snapshot "belongs" to project demo in this test.
      assertVisible(c.var.auth, 'demo', `Snapshot ${c.req.param('id')} could not be found.`);
      authorize(c, 'snapshot:reset_status');
      return c.body(null, 202);
    });
    a.post('/:project/snapshots/:id/callback', (c) => {
      assertProjectInPath(c.var.auth, c.req.param('project'));
      if (!grantedByRole(c, 'snapshot:update_snapshot_status')) assertVisible(c.var.auth, 'demo', 'gone');
      authorize(c, 'snapshot:update_snapshot_status');
      return c.body(null, 202);
    });
    return a;
  }

  it('authorize answers Cinder-style 403; other projects get 404; URL project must match', async () => {
    const member = app(policy, who(['member']));
    const res = await member.request('/demo/snapshots/s1/reset', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      forbidden: { code: 403, message: "Policy doesn't allow snapshot:reset_status to be performed." },
    });

    const other = await app(policy, who(['member'], 'other')).request('/other/snapshots/s1/reset', { method: 'POST' });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ itemNotFound: { code: 404, message: 'Snapshot s1 could not be found.' } });

    expect((await app(policy, who(['admin'], 'admin')).request('/admin/snapshots/s1/reset', { method: 'POST' })).status).toBe(202);

    const wrongUrl = await member.request('/other/snapshots/s1/reset', { method: 'POST' });
    expect(wrongUrl.status).toBe(400);
    expect(await wrongUrl.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('a role grant reaches across projects (the compute callback)', async () => {
    expect((await app(policy, who(['service'], 'service')).request('/service/snapshots/s1/callback', { method: 'POST' })).status).toBe(202);
    expect((await app(policy, who(['member'], 'other')).request('/other/snapshots/s1/callback', { method: 'POST' })).status).toBe(404);
    expect((await app(policy, who(['member'], 'demo')).request('/demo/snapshots/s1/callback', { method: 'POST' })).status).toBe(403);
  });

  it('assertVisible lets admins and owners through only', () => {
    expect(() => assertVisible(who(['admin'], 'x'), 'demo')).not.toThrow();
    expect(() => assertVisible(who(['reader'], 'demo'), 'demo')).not.toThrow();
    expect(() => assertVisible(who(['member'], 'other'), 'demo')).toThrow(expect.objectContaining({ code: 404 }));
  });

  it('authorize without the middlewares is a wiring error (500), not a 401/403', async () => {
    const a = new Hono();
    a.onError(onApiError());
    a.get('/', (c) => {
      authorize(c, 'snapshot:get');
      return c.body(null, 204);
    });
    expect((await a.request('/')).status).toBe(500);
  });
});
