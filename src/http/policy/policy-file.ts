/**
 * POLICY_FILE: a policy.yaml as Cinder operators keep it (a YAML or JSON mapping of rule name to
 * rule text in oslo.policy's language), or this service's earlier JSON role-list format, which
 * is still read, converted, with a deprecation warning per rule:
 *
 *     "snapshot:create": "project"            ->  "project_id:%(project_id)s"
 *     "snapshot:reset_status": ["admin"]      ->  "role:admin"
 *     "snapshot:transitions": ["admin", "project"] -> "role:admin or project_id:%(project_id)s"
 *     "snapshot:force_delete": []             ->  "!"
 *
 * A role meant that role on any project, as role:NAME does. "project" meant the caller's own
 * project's resources and never a grant across projects, which is the owner check; it let admins
 * act on other projects' resources too, which the owner check does not: list the admin role
 * beside it (as the defaults did) for that. The conversion can only refuse more, never less.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildPolicy, PolicyError, type Policy, type RuleText } from './policy-set.js';

const LEGACY_PROJECT = 'project';

/**
 * Lays a parsed policy document over `base`. `source` names it in messages; `warn` hears the
 * deprecation warnings and the suspicious-but-allowed. Throws PolicyError.
 */
export function parsePolicy(doc: unknown, source: string, base?: Policy, warn: (message: string) => void = () => {}): Policy {
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PolicyError(`Invalid policy ${source}: it must be a mapping of rule name to rule, such as "snapshot:create": "rule:admin_or_owner"`);
  }
  const texts = new Map<string, RuleText>();
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof value === 'string' && value !== LEGACY_PROJECT) {
      texts.set(name, { text: value, source });
      continue;
    }
    const text = fromRoleList(name, value, source);
    warn(`policy ${source}: rule "${name}" is in the deprecated role-list format (${JSON.stringify(value)}); it is read as "${text}": write that instead`);
    texts.set(name, { text, source });
  }
  return buildPolicy(texts, source, base, warn);
}

function fromRoleList(name: string, value: unknown, source: string): string {
  const alternatives = value === LEGACY_PROJECT ? [LEGACY_PROJECT] : value;
  if (!Array.isArray(alternatives) || alternatives.some((a) => typeof a !== 'string')) {
    throw new PolicyError(`Invalid policy ${source}: rule "${name}" must be a rule in oslo.policy's language (a string such as "role:admin or rule:admin_or_owner"), got ${JSON.stringify(value)}`);
  }
  if (alternatives.length === 0) return '!';
  const checks = new Set<string>();
  for (const [i, raw] of alternatives.entries()) {
    const alternative = (raw as string).trim();
    if (alternative === '') throw new PolicyError(`Invalid policy ${source}: rule "${name}", item ${i}: role names must not be empty`);
    if (/[\s()%:]/.test(alternative)) throw new PolicyError(`Invalid policy ${source}: rule "${name}", item ${i}: "${alternative}" is not a role name`);
    checks.add(alternative === LEGACY_PROJECT ? 'project_id:%(project_id)s' : `role:${alternative.toLowerCase()}`);
  }
  return [...checks].join(' or ');
}

/** Reads and parses POLICY_FILE over `base`. Throws PolicyError naming the file. */
export function loadPolicyFile(file: string, base: Policy, warn: (message: string) => void): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(`POLICY_FILE ${file} cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = readYaml(text);
  } catch (err) {
    throw new PolicyError(`POLICY_FILE ${file} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  return parsePolicy(doc, `file ${file}`, base, warn);
}

/**
 * YAML 1.2 (JSON is a subset of it), with the `yaml` package: maintained, strict about duplicate
 * keys, and errors that name line and column. Loaded only when there is a file to read, which
 * keeps it out of a start without POLICY_FILE.
 */
function readYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text, { prettyErrors: true, uniqueKeys: true });
}
