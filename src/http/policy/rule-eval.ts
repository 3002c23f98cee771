/**
 * Deciding a rule tree for a caller and a target, as oslo.policy's checks do (_checks.py):
 *
 *   - a %(key)s whose key the target lacks makes its check false (oslo catches the KeyError);
 *   - role: compares case-insensitively; a generic check compares text, the credential's value
 *     printed the Python way (True, False, None), walking into lists along a dotted path;
 *   - rule:NAME decides the named rule with the same caller and target.
 *
 * The target may also be UNKNOWN: then every check that reads it is unknown too, and and/or/not
 * follow Kleene's three-valued logic. A rule that is true with an unknown target is true for
 * every target: that is how the API knows, before reading a row, that a caller reaches across
 * projects (an admin, the compute service's role) and needs no owner check.
 */
import type { RuleExpr, Template } from './rule-syntax.js';

/** What oslo calls creds: the caller, as Cinder's context.to_policy_values() gives it. */
export interface Credentials {
  readonly user_id: string;
  readonly project_id: string;
  readonly roles: readonly string[];
  readonly is_admin: boolean;
  readonly is_admin_project: boolean;
}

/** Attributes of the object acted on (the snapshot, the volume), or of the caller by default. */
export type Target = Readonly<Record<string, string | number | boolean>>;

export const UNKNOWN_TARGET = null;

/** true, false, or undefined: depends on a target not given. */
export type Decision = boolean | undefined;

export interface Evaluation {
  readonly creds: Credentials;
  readonly target: Target | typeof UNKNOWN_TARGET;
  /** The named rules (rule:NAME); the loader has checked that every name exists. */
  readonly rule: (name: string) => RuleExpr;
}

export function decide(expr: RuleExpr, ev: Evaluation): Decision {
  switch (expr.type) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'and': {
      let result: Decision = true;
      for (const r of expr.rules) {
        const d = decide(r, ev);
        if (d === false) return false;
        if (d === undefined) result = undefined;
      }
      return result;
    }
    case 'or': {
      let result: Decision = false;
      for (const r of expr.rules) {
        const d = decide(r, ev);
        if (d === true) return true;
        if (d === undefined) result = undefined;
      }
      return result;
    }
    case 'not': {
      const d = decide(expr.rule, ev);
      return d === undefined ? undefined : !d;
    }
    case 'rule':
      return decide(ev.rule(expr.name), ev);
    case 'role': {
      const match = fill(expr.match, ev.target);
      if (typeof match !== 'string') return match === MISSING ? false : undefined;
      const wanted = match.toLowerCase();
      return ev.creds.roles.some((r) => r.toLowerCase() === wanted);
    }
    case 'literal': {
      const match = fill(expr.match, ev.target);
      if (typeof match !== 'string') return match === MISSING ? false : undefined;
      return match === expr.value;
    }
    case 'credential': {
      const match = fill(expr.match, ev.target);
      if (typeof match !== 'string') return match === MISSING ? false : undefined;
      return findIn(ev.creds, expr.path, match);
    }
  }
}

const MISSING = Symbol('missing');
const DEPENDS = Symbol('depends on the target');

function fill(template: Template, target: Target | null): string | typeof MISSING | typeof DEPENDS {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    if (target === UNKNOWN_TARGET) return DEPENDS;
    if (!Object.hasOwn(target, part.key)) return MISSING;
    out += pythonStr(target[part.key]);
  }
  return out;
}

/** oslo's GenericCheck._find_in_dict: a list along the path matches if any element does. */
function findIn(value: unknown, path: readonly string[], match: string): boolean {
  if (path.length === 0) return match === pythonStr(value);
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, path[0]!)) return false;
  const next = (value as Record<string, unknown>)[path[0]!];
  if (Array.isArray(next)) return next.some((v) => findIn(v, path.slice(1), match));
  return findIn(next, path.slice(1), match);
}

/** str() of the value, as Python prints it: the form oslo compares in. */
function pythonStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}
