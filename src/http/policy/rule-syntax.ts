/**
 * oslo.policy's rule language, read into a tree (oslo_policy/_parser.py and _checks.py).
 *
 * The expression grammar (and, or, not, parentheses, oslo's tokenizing) is rule-grammar.peggy;
 * this module reads each check the way oslo's _parse_check and the check classes do:
 *
 *   ""                 always (only the whole rule may be empty)
 *   @ / !              always / never
 *   rule:NAME          the rule (or alias) NAME
 *   role:NAME          the caller has role NAME (case-insensitive; NAME may use %(key)s)
 *   KIND:MATCH         a generic check: MATCH, with %(key)s replaced from the target, must
 *                      equal KIND, which is either a literal ('text', "text", a number, True,
 *                      False, None) or a dotted path into the caller's credentials
 *                      (is_admin, project_id, roles, ...)
 *
 * Where oslo logs a rule it cannot understand and then refuses it at every call (fail closed),
 * this module throws RuleSyntaxError, with the column, so that the service does not start with
 * a rule that silently means "never". For the same reason http: checks, which this service does
 * not make, are refused rather than read as a generic check.
 */
import { parse, SyntaxError as PegSyntaxError, type Expectation, type ParsedRule } from './rule-parser.js';

/** MATCH with its %(key)s holes: literal text and target keys, in order. */
export type Template = readonly (string | { readonly key: string })[];

export type Check =
  | { readonly type: 'true' }
  | { readonly type: 'false' }
  | { readonly type: 'rule'; readonly name: string; readonly text: string }
  | { readonly type: 'role'; readonly match: Template; readonly text: string }
  | { readonly type: 'literal'; readonly value: string; readonly match: Template; readonly text: string }
  | { readonly type: 'credential'; readonly path: readonly string[]; readonly match: Template; readonly text: string };

export type RuleExpr =
  | { readonly type: 'or' | 'and'; readonly rules: readonly RuleExpr[] }
  | { readonly type: 'not'; readonly rule: RuleExpr }
  | Check;

export class RuleSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based column in the rule's text. */
    readonly column: number,
  ) {
    super(message);
  }
}

const ALWAYS: Check = Object.freeze({ type: 'true' });
const NEVER: Check = Object.freeze({ type: 'false' });

/** Parses one rule's text; throws RuleSyntaxError. */
export function parseRule(text: string): RuleExpr {
  // oslo: `if not rule: return TrueCheck()`; whitespace alone is not empty to it, and fails.
  if (text === '') return ALWAYS;
  let parsed: ParsedRule;
  try {
    parsed = parse(text);
  } catch (err) {
    if (err instanceof PegSyntaxError) throw new RuleSyntaxError(describeSyntaxError(err), err.location.start.column);
    throw err;
  }
  return toExpr(parsed);
}

function toExpr(node: ParsedRule): RuleExpr {
  switch (node.type) {
    case 'or':
    case 'and':
      return { type: node.type, rules: node.rules.map(toExpr) };
    case 'not':
      return { type: 'not', rule: toExpr(node.rule) };
    case 'check':
      return parseCheck(node.text, node.offset);
  }
}

function describeSyntaxError(err: PegSyntaxError): string {
  // Whitespace is allowed nearly everywhere; listing it only hides what was wanted.
  const wanted = [...new Set((err.expected ?? []).filter((e) => e.description !== 'whitespace').map(describeExpectation))];
  const list = wanted.length <= 1 ? (wanted[0] ?? 'nothing') : `${wanted.slice(0, -1).join(', ')} or ${wanted.at(-1)}`;
  return `expected ${list} but found ${err.found === null ? 'the end of the rule' : JSON.stringify(err.found)}`;
}

function describeExpectation(e: Expectation): string {
  if (e.type === 'end') return 'the end of the rule';
  if (e.type === 'literal') return JSON.stringify(e.text);
  return e.description ?? e.text ?? e.type;
}

const NAME = /^[^\s%]+$/;
const CREDENTIAL_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

function parseCheck(text: string, offset: number): Check {
  const column = offset + 1;
  if (text === '@') return ALWAYS;
  if (text === '!') return NEVER;
  const colon = text.indexOf(':');
  if (colon === -1) {
    throw new RuleSyntaxError(`"${text}" is not a check: write KIND:MATCH (such as role:admin or rule:admin_api), @ (always) or ! (never)`, column);
  }
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  const matchColumn = column + colon + 1;
  if (rest === '') throw new RuleSyntaxError(`"${text}" checks nothing: the part after ":" is empty`, matchColumn);
  switch (kind) {
    case 'rule':
      if (!NAME.test(rest)) throw new RuleSyntaxError(`"${text}": a rule name cannot contain "%"`, matchColumn);
      return { type: 'rule', name: rest, text };
    case 'role':
      return { type: 'role', match: parseTemplate(rest, matchColumn), text };
    case 'http':
    case 'https':
      throw new RuleSyntaxError(`"${text}": http checks (asking a remote server) are not supported by this service`, column);
  }
  const match = parseTemplate(rest, matchColumn);
  const literal = pythonLiteral(kind);
  if (literal !== undefined) return { type: 'literal', value: literal, match, text };
  if (!CREDENTIAL_PATH.test(kind)) {
    throw new RuleSyntaxError(
      `"${kind}" (in "${text}") is neither a literal ('text', "text", a number, True, False, None) nor a credential attribute such as project_id or is_admin`,
      column,
    );
  }
  return { type: 'credential', path: kind.split('.'), match, text };
}

/**
 * The kinds oslo reads with Python's ast.literal_eval, as str() prints them (the form a match is
 * compared in). Backslash escapes are refused rather than half-implemented.
 */
function pythonLiteral(kind: string): string | undefined {
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  const quoted = /^'([^'\\]*)'$|^"([^"\\]*)"$/.exec(kind);
  if (quoted) return quoted[1] ?? quoted[2];
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(kind)) return String(BigInt(kind));
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)$/.test(kind)) {
    const n = Number(kind);
    return Number.isInteger(n) ? `${n}.0` : String(n);
  }
  return undefined;
}

/** MATCH as Python's `match % target` reads it; only %(key)s and %% are allowed. */
function parseTemplate(text: string, column: number): Template {
  const parts: (string | { key: string })[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== '%') {
      literal += ch;
      continue;
    }
    if (text[i + 1] === '%') {
      literal += '%';
      i++;
      continue;
    }
    const close = text[i + 1] === '(' ? text.indexOf(')', i + 2) : -1;
    if (close === -1 || text[close + 1] !== 's' || close === i + 2) {
      throw new RuleSyntaxError(`"${text}": after "%" only %(name)s (a target attribute) or %% (a percent sign) are understood`, column + i);
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ key: text.slice(i + 2, close) });
    i = close + 1;
  }
  if (literal || parts.length === 0) parts.push(literal);
  return parts;
}

/** The rule as oslo's str() prints the tree: every and/or in parentheses. */
export function ruleToString(expr: RuleExpr): string {
  switch (expr.type) {
    case 'true':
      return '@';
    case 'false':
      return '!';
    case 'or':
    case 'and':
      return `(${expr.rules.map(ruleToString).join(` ${expr.type} `)})`;
    case 'not':
      return `not ${ruleToString(expr.rule)}`;
    default:
      return expr.text;
  }
}

/** Every check in the tree, for the loader's cross-rule checks. */
export function* checksOf(expr: RuleExpr): Generator<Check> {
  switch (expr.type) {
    case 'or':
    case 'and':
      for (const r of expr.rules) yield* checksOf(r);
      return;
    case 'not':
      yield* checksOf(expr.rule);
      return;
    default:
      yield expr;
  }
}
