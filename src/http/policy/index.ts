/**
 * Authorization policy.
 *
 * Policy file format (JSON object; docs/policy.md has the full story):
 *
 *     {
 *       "snapshot:update_snapshot_status": ["admin", "service"],
 *       "snapshot:create": "project"
 *     }
 *
 * Each key is a rule name from POLICY_RULES; each value lists the alternatives that allow it:
 * role names (compared case-insensitively), and/or the word "project", meaning any
 * authenticated user, confined to their own project's resources (admins see every project, as
 * with Cinder's admin_or_owner). `"project"` alone is short for `["project"]`; `[]` allows nobody.
 * A file given by POLICY_FILE only needs the rules it changes: the rest keep the defaults in
 * default-policy.json. Unknown rule names are an error, so a typo cannot silently open a rule.
 *
 * Handlers call, in this order:
 *   assertProjectInPath(auth, projectIdFromUrl)  400, as Cinder, when the URL's project is not the token's
 *   assertVisible(auth, resource.projectId, msg) 404 for another project's resource (admins exempt),
 *                                                so existence does not leak
 *   authorize(c, 'snapshot:reset_status')        403 "Policy doesn't allow ... to be performed."
 * A rule granted through a role is not confined to a project: the compute service's callback
 * (snapshot:update_snapshot_status, role "service") arrives under the service's own project, so
 * that route skips assertVisible when grantedByRole(c, rule).
 */
import { readFileSync } from 'node:fs';
import type { Context, MiddlewareHandler } from 'hono';
import * as z from 'zod';
import type { AuthContext } from '../auth/types.js';
import { badRequest, forbidden, notFound } from '../faults/index.js';

export const POLICY_RULES = [
  'snapshot:create',
  'snapshot:get',
  'snapshot:get_all',
  'snapshot:update',
  'snapshot:delete',
  'snapshot:update_snapshot_status',
  'snapshot:reset_status',
  'snapshot:force_delete',
  'snapshot:reconcile',
  'snapshot:admin_metadata',
  'snapshot:transitions',
  'snapshot:all_tenants',
  'snapshot:extended_attributes',
  'volume:create',
  'volume:get',
  'volume:get_all',
  'volume:update',
  'volume:delete',
  'volume:reserve',
  'volume:unreserve',
  'volume:initialize_connection',
  'volume:terminate_connection',
  'volume:attach',
  'volume:begin_detaching',
  'volume:roll_detaching',
  'volume:detach',
  'volume:reset_status',
  'volume:force_delete',
  'volume:admin_metadata',
  'volume:all_tenants',
  'orphan_files:get_all',
] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

export const PROJECT = 'project';

/** Normalised: every rule present, alternatives lower-cased. */
export type Policy = Readonly<Record<PolicyRule, readonly string[]>>;

declare module 'hono' {
  interface ContextVariableMap {
    policy: Policy;
  }
}

const KNOWN_RULES: ReadonlySet<string> = new Set(POLICY_RULES);

const policyFileSchema = z.record(
  z.string(),
  z.union([z.literal(PROJECT), z.array(z.string().trim().min(1, { error: 'role names must not be empty' }))], {
    error: 'must be "project" or a list of role names (and/or "project")',
  }),
  { error: 'a policy file must be a JSON object of rule name -> "project" | [roles]' },
);

/**
 * Validates a parsed policy document and lays it over `base`. `source` names the document in
 * error messages, which are meant to be shown as-is at startup.
 */
export function parsePolicy(doc: unknown, source: string, base?: Policy): Policy {
  const parsed = policyFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? ` at "${issue.path.map(String).join('.')}"` : '';
    throw new Error(`Invalid policy ${source}${where}: ${issue.message}`);
  }
  const unknown = Object.keys(parsed.data).filter((k) => !KNOWN_RULES.has(k));
  if (unknown.length) {
    throw new Error(`Invalid policy ${source}: unknown rule(s) ${unknown.join(', ')}; known rules: ${POLICY_RULES.join(', ')}`);
  }
  const out = { ...(base ?? {}) } as Record<string, readonly string[]>;
  for (const [rule, value] of Object.entries(parsed.data)) {
    const alternatives = typeof value === 'string' ? [value] : value;
    out[rule] = Object.freeze([...new Set(alternatives.map((a) => a.toLowerCase()))]);
  }
  const missing = POLICY_RULES.filter((r) => !(r in out));
  if (missing.length) throw new Error(`Invalid policy ${source}: missing rule(s) ${missing.join(', ')}`);
  return Object.freeze(out) as Policy;
}

const DEFAULT_POLICY_URL = new URL('./default-policy.json', import.meta.url);

export function loadDefaultPolicy(): Policy {
  return parsePolicy(JSON.parse(readFileSync(DEFAULT_POLICY_URL, 'utf8')), 'default-policy.json');
}

/** Defaults, overlaid with the POLICY_FILE setting when set. Throws a startup-ready Error on any problem. */
export function loadPolicy(file?: string): Policy {
  const defaults = loadDefaultPolicy();
  if (!file) return defaults;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`POLICY_FILE ${file} cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`POLICY_FILE ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePolicy(doc, `file ${file}`, defaults);
}

/** How `rule` lets `auth` in: through one of its roles, through "project", or not at all. */
export function evaluate(policy: Policy, auth: AuthContext, rule: PolicyRule): 'role' | 'project' | false {
  const alternatives = policy[rule];
  if (alternatives.some((a) => a !== PROJECT && auth.roles.includes(a))) return 'role';
  if (alternatives.includes(PROJECT)) return 'project';
  return false;
}

export function policyMiddleware(policy: Policy): MiddlewareHandler {
  return async (c, next) => {
    c.set('policy', policy);
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

export function isAllowed(c: Context, rule: PolicyRule): boolean {
  const { auth, policy } = authAndPolicy(c);
  return evaluate(policy, auth, rule) !== false;
}

/** True when a role of the rule (not "project") admits the caller, i.e. across projects. */
export function grantedByRole(c: Context, rule: PolicyRule): boolean {
  const { auth, policy } = authAndPolicy(c);
  return evaluate(policy, auth, rule) === 'role';
}

/** Throws Cinder's 403 unless `rule` allows the caller. */
export function authorize(c: Context, rule: PolicyRule): void {
  if (!isAllowed(c, rule)) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
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
