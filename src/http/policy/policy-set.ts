/**
 * A policy: every rule by name (the service's rules and the aliases they refer to), parsed and
 * checked as a whole. Built from the defaults, then from a policy file laid over them: a rule in
 * the file replaces the default of that name, the rest keep theirs, as oslo.policy overlays a
 * policy file on registered defaults.
 *
 * Checked here, so that a mistake stops the service at start instead of opening or closing a
 * rule in silence (oslo logs and fails closed at each call):
 *   - a name with ":" must be one of the service's rules (a typo would leave the intended rule at
 *     its default); names without ":" are aliases, used through rule:NAME;
 *   - every rule:NAME must name a rule, and no rule may refer to itself through others;
 *   - each rule must parse (the message gives the rule, the column and a caret).
 * Aliases nobody refers to, and checks on credentials or target attributes this service never
 * provides (they are always false), are reported as warnings.
 */
import { RULE_DEFAULTS } from './defaults.js';
import { checksOf, parseRule, RuleSyntaxError, type RuleExpr } from './rule-syntax.js';

export type PolicyRule = Extract<(typeof RULE_DEFAULTS)[number]['name'], `${string}:${string}`>;
export const POLICY_RULES: readonly PolicyRule[] = RULE_DEFAULTS.map((r) => r.name).filter((n): n is PolicyRule => n.includes(':'));
const KNOWN_RULES: ReadonlySet<string> = new Set(POLICY_RULES);
const CINDER_NAMES: ReadonlyMap<string, string> = new Map(RULE_DEFAULTS.flatMap((r) => ('cinder' in r ? [[r.cinder, r.name] as const] : [])));

/** What a check may read: the credentials the service builds and the targets it passes. */
const CREDENTIAL_ATTRIBUTES: ReadonlySet<string> = new Set(['user_id', 'project_id', 'roles', 'is_admin', 'is_admin_project']);
/** A target's attributes, by the name rules read (%(project_id)s), and the row field each comes from. */
export const TARGET_FIELDS = { id: 'id', project_id: 'projectId', user_id: 'userId', volume_id: 'volumeId', status: 'status' } as const;
const TARGET_ATTRIBUTES: ReadonlySet<string> = new Set(Object.keys(TARGET_FIELDS));

export interface PolicyRuleEntry {
  readonly name: string;
  /** The rule as written (oslo syntax). */
  readonly text: string;
  readonly expr: RuleExpr;
  /** Where it came from: "default", or the file that set it. */
  readonly source: string;
}

export interface Policy {
  readonly rules: ReadonlyMap<string, PolicyRuleEntry>;
}

export class PolicyError extends Error {}

export interface RuleText {
  readonly text: string;
  readonly source: string;
}

/**
 * Builds a policy from rule texts by name, laid over `base`. `warn` hears what is suspicious but
 * allowed. Throws PolicyError with a message meant to be shown as it is at start.
 */
export function buildPolicy(texts: ReadonlyMap<string, RuleText>, source: string, base?: Policy, warn: (message: string) => void = () => {}): Policy {
  const rules = new Map<string, PolicyRuleEntry>(base?.rules);
  const unknown = [...texts.keys()].filter((name) => name.includes(':') && !KNOWN_RULES.has(name));
  if (unknown.length > 0) {
    const hints = unknown.map((n) => (CINDER_NAMES.has(n) ? ` (this service calls Cinder's ${n} "${CINDER_NAMES.get(n)}")` : '')).join('');
    throw new PolicyError(`Invalid policy ${source}: unknown rule(s) ${unknown.join(', ')}${hints}; known rules: ${POLICY_RULES.join(', ')}`);
  }
  for (const [name, { text, source: from }] of texts) {
    try {
      rules.set(name, { name, text, expr: parseRule(text), source: from });
    } catch (err) {
      if (!(err instanceof RuleSyntaxError)) throw err;
      throw new PolicyError(`Invalid policy ${source}: rule "${name}" at column ${err.column}: ${err.message}\n    ${text}\n    ${' '.repeat(err.column - 1)}^`);
    }
  }
  const missing = POLICY_RULES.filter((r) => !rules.has(r));
  if (missing.length > 0) throw new PolicyError(`Invalid policy ${source}: missing rule(s) ${missing.join(', ')}`);

  const referenced = new Set<string>();
  for (const entry of rules.values()) {
    for (const check of checksOf(entry.expr)) {
      if (check.type === 'rule') {
        if (!rules.has(check.name)) throw new PolicyError(`Invalid policy ${source}: rule "${entry.name}" refers to rule:${check.name}, which is not defined`);
        referenced.add(check.name);
      }
      // Only the rules this document set are worth a warning; the defaults are known to be fine.
      if (!texts.has(entry.name)) continue;
      if (check.type === 'credential' && !CREDENTIAL_ATTRIBUTES.has(check.path[0]!)) {
        warn(`policy ${source}: rule "${entry.name}" checks "${check.text}", but callers have no "${check.path[0]}" here (known: ${[...CREDENTIAL_ATTRIBUTES].join(', ')}); the check is always false`);
      }
      if (check.type === 'role' || check.type === 'literal' || check.type === 'credential') {
        for (const part of check.match) {
          if (typeof part !== 'string' && !TARGET_ATTRIBUTES.has(part.key)) {
            warn(`policy ${source}: rule "${entry.name}" reads %(${part.key})s, which no target has (known: ${[...TARGET_ATTRIBUTES].join(', ')}); the check is always false`);
          }
        }
      }
    }
  }
  assertNoCycle(rules, source);
  for (const name of texts.keys()) {
    if (!name.includes(':') && !referenced.has(name)) warn(`policy ${source}: alias "${name}" is defined but no rule refers to it (rule:${name})`);
  }
  return Object.freeze({ rules });
}

function assertNoCycle(rules: ReadonlyMap<string, PolicyRuleEntry>, source: string): void {
  const done = new Set<string>();
  const visit = (name: string, path: string[]) => {
    if (done.has(name)) return;
    if (path.includes(name)) throw new PolicyError(`Invalid policy ${source}: rules refer to each other in a loop: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
    for (const check of checksOf(rules.get(name)!.expr)) if (check.type === 'rule') visit(check.name, [...path, name]);
    done.add(name);
  };
  for (const name of rules.keys()) visit(name, []);
}

/** The built-in defaults, checked like any policy. */
export function defaultPolicy(): Policy {
  return buildPolicy(new Map(RULE_DEFAULTS.map((r) => [r.name, { text: r.check, source: 'default' }])), 'defaults');
}
