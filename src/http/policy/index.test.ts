import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRuleParser, PARSER } from '../../../scripts/policy-parser.js';
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
import { RULE_DEFAULTS } from './defaults.js';
import { decide, type Credentials, type Target } from './rule-eval.js';
import { parseRule, ruleToString, type RuleExpr } from './rule-syntax.js';
import { policySample } from './sample.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'policy-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const who = (roles: string[], projectId = 'demo', userId = 'u'): AuthContext => makeAuthContext({ userId, projectId, roles });

/** A rule decided alone, with `aliases` for rule: checks. */
function check(text: string, creds: Partial<Credentials>, target: Target | null = {}, aliases: Record<string, string> = {}) {
  const full: Credentials = { user_id: 'u', project_id: 'p', roles: [], is_admin: false, is_admin_project: true, ...creds };
  const parsed = new Map(Object.entries(aliases).map(([k, v]) => [k, parseRule(v)] as [string, RuleExpr]));
  return decide(parseRule(text), { creds: full, target, rule: (n) => parsed.get(n)! });
}

describe('the rule language (oslo.policy)', () => {
  // oslo_policy/tests/test_parser.py: the tree's str() for every mix of and/or/not.
  it.each([
    ['@ or ! or @', '(@ or ! or @)'],
    ['@ or ! and @', '(@ or (! and @))'],
    ['@ and ! or @', '((@ and !) or @)'],
    ['@ and ! and @', '(@ and ! and @)'],
    ['@ or ! or @ or !', '(@ or ! or @ or !)'],
    ['@ or ! or @ and !', '(@ or ! or (@ and !))'],
    ['@ or ! and @ or !', '(@ or (! and @) or !)'],
    ['@ or ! and @ and !', '(@ or (! and @ and !))'],
    ['@ and ! or @ or !', '((@ and !) or @ or !)'],
    ['@ and ! or @ and !', '((@ and !) or (@ and !))'],
    ['@ and ! and @ or !', '((@ and ! and @) or !)'],
    ['@ and ! and @ and !', '(@ and ! and @ and !)'],
    ['not @ and ! or @', '((not @ and !) or @)'],
    ['@ and not ! or @', '((@ and not !) or @)'],
    ['@ and ! or not @', '((@ and !) or not @)'],
    ['((role:a) AND (role:b)) Or not (role:c )', '((role:a and role:b) or not role:c)'],
    ['  role:admin  ', 'role:admin'],
  ])('%s reads as %s', (text, tree) => {
    expect(ruleToString(parseRule(text))).toBe(tree);
  });

  it('a or b and c is a or (b and c): precedence not > and > or, decided as well as parsed', () => {
    expect(check('role:a or role:b and role:c', { roles: ['a'] })).toBe(true);
    expect(check('role:a or role:b and role:c', { roles: ['b'] })).toBe(false);
    expect(check('(role:a or role:b) and role:c', { roles: ['a'] })).toBe(false);
    expect(check('not role:a and role:b', { roles: ['b'] })).toBe(true);
    expect(check('not (role:a and role:b)', { roles: ['a', 'b'] })).toBe(false);
  });

  it('@ is always, ! is never, and the empty rule is always', () => {
    expect(check('@', {})).toBe(true);
    expect(check('!', {})).toBe(false);
    expect(check('', {})).toBe(true);
  });

  // The examples of oslo.policy's admin guide (doc/source/admin/policy-yaml-file.rst).
  it('the admin guide\'s examples', () => {
    expect(check('', {})).toBe(true); // "compute:get_all": ""
    expect(check('!', { roles: ['admin'], is_admin: true })).toBe(false); // "compute:shelve": "!"
    expect(check("'shared':%(visibility)s", {}, { visibility: 'shared' })).toBe(true); // "copy_image"
    expect(check("'shared':%(visibility)s", {}, { visibility: 'private' })).toBe(false);
    expect(check('role:admin', { roles: ['Admin'] })).toBe(true); // "identity:create_user"
    expect(check('not role:heat_stack_user', { roles: ['heat_stack_user'] })).toBe(false); // "stacks:create"
    expect(check('not role:heat_stack_user', { roles: ['member'] })).toBe(true);
    expect(check('rule:deny_stack_user', { roles: ['heat_stack_user'] }, {}, { deny_stack_user: 'not role:heat_stack_user' })).toBe(false);
    expect(check('project_id:%(project_id)s', { project_id: 'p1' }, { project_id: 'p1' })).toBe(true); // servers:start
    expect(check('project_id:%(project_id)s', { project_id: 'p1' }, { project_id: 'p2' })).toBe(false);
    // keystone: admin_required / owner / admin_or_owner / ec2_delete_credential
    const keystone = { admin_required: 'role:admin or is_admin:1', owner: 'user_id:%(user_id)s', admin_or_owner: 'rule:admin_required or rule:owner' };
    expect(check('rule:admin_or_owner', { user_id: 'u1' }, { user_id: 'u1' }, keystone)).toBe(true);
    expect(check('rule:admin_or_owner', { user_id: 'u1' }, { user_id: 'u2' }, keystone)).toBe(false);
    expect(check('rule:admin_or_owner', { roles: ['admin'] }, { user_id: 'u2' }, keystone)).toBe(true);
    // is_admin:1 compares "1" with str(True): false, in oslo too; is_admin:True is the working form.
    expect(check('is_admin:1', { is_admin: true })).toBe(false);
    expect(check('is_admin:True', { is_admin: true })).toBe(true);
    const ec2 = 'rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)';
    expect(check(ec2, { user_id: 'u1' }, { user_id: 'u1', 'target.credential.user_id': 'u1' }, keystone)).toBe(true);
    expect(check(ec2, { user_id: 'u1' }, { user_id: 'u1', 'target.credential.user_id': 'u2' }, keystone)).toBe(false);
  });

  // oslo_policy/tests/test_checks.py, GenericCheckTestCase, and the policy.py docstring's table.
  it('generic checks: literals, credentials, dotted paths, lists', () => {
    expect(check("'spam':%(name)s", {}, { name: 'spam' })).toBe(true);
    expect(check("'spam':%(name)s", {}, { name: 'ham' })).toBe(false);
    expect(check('True:%(enabled)s', {}, { enabled: true })).toBe(true);
    expect(check('True:%(enabled)s', {}, { enabled: false })).toBe(false);
    expect(check('20:%(n)s', {}, { n: 20 })).toBe(true);
    expect(check('project_id:xpto2035abc', { project_id: 'xpto2035abc' })).toBe(true);
    expect(check('roles:member', { roles: ['reader', 'member'] })).toBe(true); // a list matches if any element does
    expect(check('roles:Member', { roles: ['member'] })).toBe(false); // generic checks are exact; role: is not
    expect(check('role:%(wanted)s', { roles: ['creator'] }, { wanted: 'Creator' })).toBe(true);
    expect(check('project_id:%%literal', { project_id: '%literal' })).toBe(true);
  });

  it('a missing attribute makes its check false, never an error', () => {
    expect(check('project_id:%(project_id)s', { project_id: 'p' }, {})).toBe(false); // not in the target
    expect(check('domain_id:%(project_id)s', {}, { project_id: 'p' })).toBe(false); // not in the credentials
    expect(check('role:%(role_name)s', { roles: ['admin'] }, {})).toBe(false);
    expect(check('a.b.c:x', {})).toBe(false);
    // ... and "not" of a false check is true, as in oslo.
    expect(check('not project_id:%(project_id)s', { project_id: 'p' }, {})).toBe(true);
  });

  it('with the target unknown, only what holds for every target is true', () => {
    expect(check('role:a or project_id:%(project_id)s', { roles: ['a'] }, null)).toBe(true);
    expect(check('role:b or project_id:%(project_id)s', { roles: ['a'] }, null)).toBe(undefined);
    expect(check('role:a and project_id:%(project_id)s', { roles: ['a'] }, null)).toBe(undefined);
    expect(check('role:b and project_id:%(project_id)s', { roles: ['a'] }, null)).toBe(false);
    expect(check('role:a and not user_id:%(user_id)s', { roles: ['a'] }, null)).toBe(undefined);
  });

  it.each([
    ['role:admin or', 14, /expected not, "\(" or a check .* but found the end of the rule/],
    ['role:admin role:service', 12, /expected and, or or the end of the rule but found "r"/],
    ['(role:admin', 12, /expected and, or or "\)" but found the end of the rule/],
    ['admin', 1, /"admin" is not a check: write KIND:MATCH/],
    ['role:', 6, /checks nothing/],
    ['project_id:%(project_id)d', 12, /only %\(name\)s .* or %% .* are understood/],
    ['http://policy.example/%(id)s', 1, /http checks .* are not supported/],
    ['not(role:admin)', 15, /but found "\)"/],
    ['   ', 4, /but found the end of the rule/],
    ['my kind:x', 4, /expected and, or/],
    ['(a b):x', 4, /expected and, or or "\)" but found "b"/],
  ])('%j is refused at column %i', (text, column, message) => {
    expect(() => parseRule(text)).toThrow(message);
    expect(() => parseRule(text)).toThrow(expect.objectContaining({ column }));
  });
});

describe('policy loading', () => {
  it('the defaults are oslo rules covering every rule the API checks, and the callback stays admin/service only', () => {
    const policy = loadDefaultPolicy();
    expect(POLICY_RULES.every((r) => policy.rules.has(r))).toBe(true);
    expect(policy.rules.get('snapshot:update_snapshot_status')!.text).toBe('rule:admin_api or role:service');
    expect(policy.rules.get('admin_api')!.text).toBe('is_admin:True or (role:admin and is_admin_project:True)');
    expect(policy.rules.get('snapshot:create')!.text).toBe('rule:admin_or_owner');
  });

  it('POLICY_FILE (YAML) overrides only the rules it names; aliases it defines are usable', () => {
    const warnings: string[] = [];
    const p = file(
      'ok.yaml',
      [
        '# an operator\'s policy.yaml',
        '"creator": "role:member and user_id:%(user_id)s"',
        '"snapshot:delete": "rule:admin_api or rule:creator"',
        "snapshot:create: 'role:member and project_id:%(project_id)s'",
        '"admin_api": "role:cloud_admin"',
      ].join('\n'),
    );
    const policy = loadPolicy(p, { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(policy.rules.get('snapshot:create')!.text).toBe('role:member and project_id:%(project_id)s');
    expect(policy.rules.get('snapshot:get')!.text).toBe('rule:admin_or_owner');
    const creator = { id: 's', projectId: 'demo', userId: 'alice' };
    expect(evaluate(policy, who(['member'], 'demo', 'alice'), 'snapshot:delete', creator)).toBe(true);
    expect(evaluate(policy, who(['member'], 'demo', 'bob'), 'snapshot:delete', creator)).toBe(false);
    // The redefined alias changes every default that refers to it.
    expect(evaluate(policy, who(['admin']), 'snapshot:reset_status')).toBe(false);
    expect(evaluate(policy, who(['cloud_admin']), 'snapshot:reset_status')).toBe(true);
  });

  it('a JSON file reads the same way', () => {
    const policy = loadPolicy(file('ok.json', JSON.stringify({ 'snapshot:get_all': '@', 'snapshot:create': '!' })));
    expect(evaluate(policy, who([]), 'snapshot:get_all')).toBe(true);
    expect(evaluate(policy, who(['admin']), 'snapshot:create')).toBe(false);
  });

  it('the deprecated role-list format still loads, converted, with a warning per rule', () => {
    const warnings: string[] = [];
    const p = file('old.json', JSON.stringify({ 'snapshot:create': ['Member', 'admin'], 'snapshot:reset_status': ['admin', 'project'], 'snapshot:delete': 'project', 'snapshot:force_delete': [] }));
    const policy = loadPolicy(p, { warn: (m) => warnings.push(m) });
    expect(policy.rules.get('snapshot:create')!.text).toBe('role:member or role:admin');
    expect(policy.rules.get('snapshot:reset_status')!.text).toBe('role:admin or project_id:%(project_id)s');
    expect(policy.rules.get('snapshot:delete')!.text).toBe('project_id:%(project_id)s');
    expect(policy.rules.get('snapshot:force_delete')!.text).toBe('!');
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toBe(`policy file ${p}: rule "snapshot:create" is in the deprecated role-list format (["Member","admin"]); it is read as "role:member or role:admin": write that instead`);
  });

  it('warns about aliases nobody uses and attributes this service never provides', () => {
    const warnings: string[] = [];
    loadPolicy(file('odd.yaml', '"unused_alias": "role:x"\n"snapshot:get": "system_scope:all or project_id:%(tenant_id)s"\n'), { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      expect.stringMatching(/rule "snapshot:get" checks "system_scope:all", but callers have no "system_scope" here/),
      expect.stringMatching(/rule "snapshot:get" reads %\(tenant_id\)s, which no target has/),
      expect.stringMatching(/alias "unused_alias" is defined but no rule refers to it/),
    ]);
  });

  it.each([
    ['missing.yaml', null, /POLICY_FILE .*missing\.yaml cannot be read/],
    ['broken.yaml', '"snapshot:create": "role:a\n  x: [', /is not valid YAML or JSON/],
    ['dup.yaml', '"snapshot:create": "@"\n"snapshot:create": "!"\n', /is not valid YAML or JSON: .*unique/],
    ['list.yaml', '- role:admin\n', /it must be a mapping of rule name to rule/],
    ['typo.yaml', '"snapshot:craete": "role:admin"\n', /unknown rule\(s\) snapshot:craete; known rules: snapshot:create/],
    ['cinder-name.yaml', '"volume_extension:snapshot_admin_actions:reset_status": "role:admin"\n', /this service calls Cinder's volume_extension:snapshot_admin_actions:reset_status "snapshot:reset_status"/],
    ['badvalue.yaml', '"snapshot:create": 3\n', /rule "snapshot:create" must be a rule in oslo.policy's language/],
    ['badrole.json', '{"snapshot:create": ["admin", ""]}', /rule "snapshot:create", item 1: role names must not be empty/],
    ['undefined.yaml', '"snapshot:create": "rule:admin_or_ownr"\n', /rule "snapshot:create" refers to rule:admin_or_ownr, which is not defined/],
    ['loop.yaml', '"a": "rule:b"\n"b": "role:x or rule:a"\n"snapshot:create": "rule:a"\n', /rules refer to each other in a loop: a -> b -> a/],
  ])('%s fails clearly at start', (name, content, message) => {
    const p = content === null ? path.join(dir, name) : file(name, content);
    expect(() => loadPolicy(p)).toThrow(message);
  });

  it('a rule that does not parse stops the start with its name, the column and a caret', () => {
    const p = file('syntax.yaml', '"snapshot:reset_status": "role:admin or or role:service"\n');
    expect(() => loadPolicy(p)).toThrow(
      `Invalid policy file ${p}: rule "snapshot:reset_status" at column 15: expected not, "(" or a check (such as role:admin, rule:admin_api, project_id:%(project_id)s, @ or !) but found "o"\n    role:admin or or role:service\n                  ^`,
    );
  });

  it('parsePolicy lays a document over a base; without a base it must be complete', () => {
    const over = parsePolicy({ 'snapshot:create': 'role:x' }, 'test', loadDefaultPolicy());
    expect(over.rules.get('snapshot:create')!.text).toBe('role:x');
    expect(() => parsePolicy({ 'volume:get': '@' }, 'test')).toThrow(/missing rule\(s\)/);
  });

  it('etc/policy/cinder-compatible.yaml loosens only the callback, to Cinder\'s project-member default', () => {
    const defaults = loadDefaultPolicy();
    const compatible = loadPolicy(path.join(ROOT, 'etc/policy/cinder-compatible.yaml'));
    const changed = [...compatible.rules.values()].filter((r) => defaults.rules.get(r.name)?.text !== r.text).map((r) => r.name);
    expect(changed.sort()).toEqual(['snapshot:update_snapshot_status', 'xena_system_admin_or_project_member']);
    const own = { projectId: 'demo' };
    const member = who(['member'], 'demo');
    expect(evaluate(defaults, member, 'snapshot:update_snapshot_status', own)).toBe(false);
    expect(evaluate(compatible, member, 'snapshot:update_snapshot_status', own)).toBe(true);
    expect(evaluate(compatible, member, 'snapshot:update_snapshot_status', { projectId: 'other' })).toBe(false);
    expect(evaluate(compatible, who(['service'], 'service'), 'snapshot:update_snapshot_status', 'any')).toBe(true);
    expect(evaluate(compatible, who(['reader'], 'demo'), 'snapshot:update_snapshot_status', own)).toBe(false);
  });
});

describe('generated files', () => {
  it('docs/policy.yaml.sample is a fresh `npm run policy-sample`', () => {
    expect(readFileSync(path.join(ROOT, 'docs/policy.yaml.sample'), 'utf8')).toBe(policySample());
  });

  it('the sample, uncommented, is exactly the defaults', () => {
    const uncommented = policySample().split('\n').filter((l) => l.startsWith('#"')).map((l) => l.slice(1)).join('\n');
    const policy = loadPolicy(file('sample.yaml', uncommented));
    expect(Object.fromEntries([...policy.rules.values()].map((r) => [r.name, r.text]))).toEqual(Object.fromEntries(RULE_DEFAULTS.map((r) => [r.name, r.check])));
  });

  it('rule-parser.js is a fresh `npm run policy-parser` of rule-grammar.peggy', () => {
    expect(readFileSync(PARSER, 'utf8')).toBe(compileRuleParser());
  });
});

describe('policy decisions', () => {
  const policy = loadDefaultPolicy();

  it.each([
    [['admin'], 'snapshot:update_snapshot_status', true],
    [['service'], 'snapshot:update_snapshot_status', true],
    [['member'], 'snapshot:update_snapshot_status', false],
    [['reader'], 'snapshot:update_snapshot_status', false],
    [['member'], 'snapshot:create', true],
    [['reader'], 'snapshot:get', true],
    [[], 'snapshot:get', true],
    [['admin'], 'snapshot:reset_status', true],
    [['service'], 'snapshot:reset_status', false],
    [['member'], 'snapshot:force_delete', false],
    [['member'], 'snapshot:all_tenants', false],
    [['ADMIN'], 'volume:force_delete', true],
  ] as const)('%j on %s (own project) -> %s', (roles, rule, expected) => {
    expect(evaluate(policy, who([...roles]), rule as PolicyRule)).toBe(expected);
  });

  it('owner checks look at the resource; admins and the service role reach every project', () => {
    const theirs = { projectId: 'other' };
    expect(evaluate(policy, who(['member']), 'snapshot:get', theirs)).toBe(false);
    expect(evaluate(policy, who(['member']), 'snapshot:get', 'any')).toBe(undefined);
    expect(evaluate(policy, who(['admin']), 'snapshot:get', 'any')).toBe(true);
    expect(evaluate(policy, who(['service'], 'service'), 'snapshot:update_snapshot_status', 'any')).toBe(true);
    // Keystone's is_admin_project: an admin role on a project that is not the admin project is
    // not admin_api, unless context_is_admin (role:admin) makes it is_admin.
    const scoped = makeAuthContext({ userId: 'u', projectId: 'p', roles: ['admin'], isAdminProject: false });
    expect(evaluate(policy, scoped, 'snapshot:reset_status')).toBe(true);
    const strict = parsePolicy({ context_is_admin: 'role:cloud_admin' }, 'test', policy);
    expect(evaluate(strict, scoped, 'snapshot:reset_status')).toBe(false);
    expect(evaluate(strict, makeAuthContext({ userId: 'u', projectId: 'p', roles: ['admin'] }), 'snapshot:reset_status')).toBe(true);
  });

  it("quotas as Cinder's defaults: members see their own project's, admins set them and the classes", () => {
    const own = { projectId: 'demo' };
    const theirs = { projectId: 'other' };
    expect(evaluate(policy, who(['member']), 'quota:show', own)).toBe(true);
    expect(evaluate(policy, who(['reader']), 'quota:show', own)).toBe(true);
    expect(evaluate(policy, who(['member']), 'quota:show', theirs)).toBe(false);
    expect(evaluate(policy, who(['admin']), 'quota:show', theirs)).toBe(true);
    for (const rule of ['quota:update', 'quota:delete'] as const) {
      expect(evaluate(policy, who(['member']), rule, own)).toBe(false);
      expect(evaluate(policy, who(['admin']), rule, theirs)).toBe(true);
    }
    for (const rule of ['quota_class:get', 'quota_class:update'] as const) {
      expect(evaluate(policy, who(['member']), rule)).toBe(false);
      expect(evaluate(policy, who(['admin']), rule)).toBe(true);
    }
    expect(evaluate(policy, who(['member']), 'limits:used_limits')).toBe(true);
  });

  function app(p: Policy, auth: AuthContext) {
    const a = new Hono();
    a.onError(onApiError());
    a.use('*', async (c, next) => {
      c.set('auth', auth);
      await next();
    });
    a.use('*', policyMiddleware(p));
    // The snapshot "belongs" to project demo, user owner, in these routes.
    const row = { id: 's1', projectId: 'demo', userId: 'owner' };
    a.post('/:project/snapshots/:id/reset', (c) => {
      assertProjectInPath(c.var.auth, c.req.param('project'));
      authorize(c, 'snapshot:reset_status');
      assertVisible(c.var.auth, row.projectId, `Snapshot ${c.req.param('id')} could not be found.`);
      authorize(c, 'snapshot:reset_status', row);
      return c.body(null, 202);
    });
    a.post('/:project/snapshots/:id/callback', (c) => {
      assertProjectInPath(c.var.auth, c.req.param('project'));
      authorize(c, 'snapshot:update_snapshot_status');
      if (!grantedByRole(c, 'snapshot:update_snapshot_status')) {
        assertVisible(c.var.auth, row.projectId, 'gone');
        authorize(c, 'snapshot:update_snapshot_status', row);
      }
      return c.body(null, 202);
    });
    a.get('/whoami', (c) => c.json({ isAdmin: c.var.auth.isAdmin }));
    return a;
  }

  it('authorize answers Cinder-style 403; other projects get 404; URL project must match', async () => {
    const member = app(policy, who(['member']));
    const res = await member.request('/demo/snapshots/s1/reset', { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ forbidden: { code: 403, message: "Policy doesn't allow snapshot:reset_status to be performed." } });

    const ownerOnly = parsePolicy({ 'snapshot:reset_status': 'project_id:%(project_id)s' }, 'test', policy);
    const other = await app(ownerOnly, who(['member'], 'other')).request('/other/snapshots/s1/reset', { method: 'POST' });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ itemNotFound: { code: 404, message: 'Snapshot s1 could not be found.' } });

    expect((await app(policy, who(['admin'], 'admin')).request('/admin/snapshots/s1/reset', { method: 'POST' })).status).toBe(202);

    const wrongUrl = await member.request('/other/snapshots/s1/reset', { method: 'POST' });
    expect(wrongUrl.status).toBe(400);
    expect(await wrongUrl.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('user_id:%(user_id)s is checked against the row, not the caller', async () => {
    const creatorOnly = parsePolicy({ 'snapshot:reset_status': 'user_id:%(user_id)s' }, 'test', policy);
    expect((await app(creatorOnly, who(['member'], 'demo', 'owner')).request('/demo/snapshots/s1/reset', { method: 'POST' })).status).toBe(202);
    expect((await app(creatorOnly, who(['member'], 'demo', 'someone')).request('/demo/snapshots/s1/reset', { method: 'POST' })).status).toBe(403);
  });

  it('a grant that holds whatever the target reaches across projects (the compute callback)', async () => {
    expect((await app(policy, who(['service'], 'service')).request('/service/snapshots/s1/callback', { method: 'POST' })).status).toBe(202);
    expect((await app(policy, who(['member'], 'other')).request('/other/snapshots/s1/callback', { method: 'POST' })).status).toBe(403);
    const compatible = loadPolicy(path.join(ROOT, 'etc/policy/cinder-compatible.yaml'));
    expect((await app(compatible, who(['member'], 'demo')).request('/demo/snapshots/s1/callback', { method: 'POST' })).status).toBe(202);
    expect((await app(compatible, who(['member'], 'other')).request('/other/snapshots/s1/callback', { method: 'POST' })).status).toBe(404);
  });

  it('visibility follows context_is_admin, as Cinder\'s is_admin does', async () => {
    const strict = parsePolicy({ context_is_admin: 'role:cloud_admin' }, 'test', policy);
    expect(await (await app(strict, who(['admin'])).request('/whoami')).json()).toEqual({ isAdmin: false });
    expect(await (await app(strict, who(['cloud_admin'])).request('/whoami')).json()).toEqual({ isAdmin: true });
    expect(await (await app(policy, who(['admin'])).request('/whoami')).json()).toEqual({ isAdmin: true });
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
