/**
 * Authorization policy, in oslo.policy's language (docs/policy.md has the operator's story):
 *
 *     "admin_api": "is_admin:True or (role:admin and is_admin_project:True)"
 *     "snapshot:update_snapshot_status": "rule:admin_api or role:service"
 *     "snapshot:delete": "rule:admin_or_owner"
 *
 * The defaults are defaults.ts; POLICY_FILE (YAML or JSON) replaces the rules it names.
 *
 * Handlers call, in this order:
 *   assertProjectInPath(auth, projectIdFromUrl)  400, as Cinder, when the URL's project is not the token's
 *   authorize(c, rule)                            403 "Policy doesn't allow ... to be performed.", with the
 *                                                 caller's own project and user as the target (Cinder's
 *                                                 default target); before any row is read, so a refused
 *                                                 caller learns nothing about which ids exist
 *   assertVisible(auth, row.projectId, msg)       404 for another project's resource (admins exempt), so
 *                                                 existence does not leak
 *   authorize(c, rule, row)                       403 again, now with the row as the target: owner checks
 *                                                 (project_id:%(project_id)s, user_id:%(user_id)s) look at it
 * A rule that holds whatever the target (a role, is_admin) reaches across projects: the compute
 * service's callback arrives under the service's own project, so that route skips the row checks
 * when grantedByRole(c, rule).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthContext } from '../auth/types.js';
import { badRequest, forbidden, notFound } from '../faults/index.js';
import { loadPolicyFile } from './policy-file.js';
import { defaultPolicy, TARGET_FIELDS, type Policy, type PolicyRule } from './policy-set.js';
import { decide, UNKNOWN_TARGET, type Credentials, type Decision, type Target } from './rule-eval.js';

export { parsePolicy } from './policy-file.js';
export { defaultPolicy as loadDefaultPolicy, POLICY_RULES, PolicyError, type Policy, type PolicyRule } from './policy-set.js';

declare module 'hono' {
  interface ContextVariableMap {
    policy: Policy;
  }
}

/** What a rule may look at of a row: Cinder passes the object, whose fields are these. */
export interface PolicyResource {
  readonly id?: string;
  readonly projectId: string;
  readonly userId?: string | null;
  readonly volumeId?: string | null;
  readonly status?: string | null;
}

export interface LoadPolicyOptions {
  /** Deprecations and suspicious rules; the service logs them as warnings. */
  warn?: (message: string) => void;
}

/** Defaults, overlaid with the POLICY_FILE setting when set. Throws a startup-ready Error on any problem. */
export function loadPolicy(file?: string, options: LoadPolicyOptions = {}): Policy {
  const defaults = defaultPolicy();
  return file ? loadPolicyFile(file, defaults, options.warn ?? (() => {})) : defaults;
}

function targetOf(resource: PolicyResource): Target {
  const target: Record<string, string> = {};
  for (const [attribute, field] of Object.entries(TARGET_FIELDS)) {
    const value = resource[field];
    if (value) target[attribute] = value;
  }
  return target;
}

const credentialsCache = new WeakMap<Policy, WeakMap<AuthContext, Credentials>>();

/**
 * The caller as rules see it. is_admin is the context_is_admin rule, as Cinder's context
 * computes it; is_admin_project is Keystone's (true unless the token says otherwise, as
 * keystonemiddleware reads it).
 */
function credentialsOf(policy: Policy, auth: AuthContext): Credentials {
  let byAuth = credentialsCache.get(policy);
  if (!byAuth) credentialsCache.set(policy, (byAuth = new WeakMap()));
  let creds = byAuth.get(auth);
  if (!creds) {
    const base = { user_id: auth.userId, project_id: auth.projectId, roles: auth.roles, is_admin: false, is_admin_project: auth.isAdminProject ?? true };
    const contextIsAdmin = policy.rules.get('context_is_admin');
    const isAdmin = contextIsAdmin ? decide(contextIsAdmin.expr, { creds: base, target: { user_id: base.user_id, project_id: base.project_id }, rule: ruleLookup(policy) }) === true : auth.isAdmin;
    creds = Object.freeze({ ...base, is_admin: isAdmin });
    byAuth.set(auth, creds);
  }
  return creds;
}

function ruleLookup(policy: Policy) {
  return (name: string) => policy.rules.get(name)!.expr;
}

/**
 * Whether `rule` lets `auth` act on `resource` (default: the caller's own project and user, as
 * Cinder's authorize() without a target); undefined when `resource` is 'any' and the answer
 * depends on which.
 */
export function evaluate(policy: Policy, auth: AuthContext, rule: PolicyRule, resource?: PolicyResource | 'any'): Decision {
  const creds = credentialsOf(policy, auth);
  const target = resource === 'any' ? UNKNOWN_TARGET : resource ? targetOf(resource) : { project_id: auth.projectId, user_id: auth.userId };
  return decide(policy.rules.get(rule)!.expr, { creds, target, rule: ruleLookup(policy) });
}

export function policyMiddleware(policy: Policy): MiddlewareHandler {
  return async (c, next) => {
    c.set('policy', policy);
    // Visibility (assertVisible) follows the policy's context_is_admin, as Cinder's is_admin does.
    const auth = c.get('auth');
    if (auth) {
      const isAdmin = credentialsOf(policy, auth).is_admin;
      if (isAdmin !== auth.isAdmin) c.set('auth', Object.freeze({ ...auth, isAdmin }));
    }
    await next();
  };
}

function authAndPolicy(c: Context): { auth: AuthContext; policy: Policy } {
  const auth = c.get('auth');
  const policy = c.get('policy');
  // Reaching a policy check without both means the app was wired wrong: a 500, not a 401/403.
  if (!auth || !policy) throw new Error('authorize() needs the auth and policy middlewares in front of the route');
  return { auth, policy };
}

export function isAllowed(c: Context, rule: PolicyRule, resource?: PolicyResource): boolean {
  const { auth, policy } = authAndPolicy(c);
  return evaluate(policy, auth, rule, resource) === true;
}

/**
 * True when `rule` admits the caller whatever the target: through a role, is_admin, "@". Such a
 * grant reaches across projects; any other needs the row (assertVisible, then authorize with it).
 * (The name is from when roles were the only such grant.)
 */
export function grantedByRole(c: Context, rule: PolicyRule): boolean {
  const { auth, policy } = authAndPolicy(c);
  return evaluate(policy, auth, rule, 'any') === true;
}

/** Throws Cinder's 403 unless `rule` allows the caller (on `resource` when given). */
export function authorize(c: Context, rule: PolicyRule, resource?: PolicyResource): void {
  if (!isAllowed(c, rule, resource)) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
}

/**
 * Another project's resource answers 404, never 403, so callers cannot probe for ids. Admins
 * see everything.
 */
export function assertVisible(auth: AuthContext, resourceProjectId: string, notFoundMessage?: string): void {
  if (auth.isAdmin || auth.projectId === resourceProjectId) return;
  throw notFound(notFoundMessage);
}

/** Cinder refuses a URL whose {project_id} is not the token's project with 400 "Malformed request url". */
export function assertProjectInPath(auth: AuthContext, projectIdInPath: string): void {
  if (auth.projectId !== projectIdInPath) throw badRequest('Malformed request url');
}
