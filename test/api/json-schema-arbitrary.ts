// fast-check arbitraries from the JSON Schemas of the OpenAPI document (the subset z.toJSONSchema
// writes, plus `not`): `valid(schema)` draws values the schema accepts, `nearlyValid(schema)` a
// valid value with one part replaced, removed or added, `hostile()` any JSON with edge cases. A
// keyword the builder does not know fails loudly, so the document cannot outgrow its test.
import type { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';

export type JsonSchema = Record<string, any>;

export interface Pools {
  /** Strings offered wherever a UUID is wanted (ids of rows that exist, so requests get past lookup). */
  uuids?: readonly string[];
  /** Keys offered for objects with `propertyNames` (metadata keys that exist). */
  keys?: readonly string[];
  /** Strings offered for object properties of these names (a service's host and binary that exist). */
  named?: Readonly<Record<string, readonly string[]>>;
}

const UUID_SOURCE = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Keywords that only describe. */
const ANNOTATIONS = new Set(['title', 'description', 'examples', 'default', '$schema', 'format']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  'type', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', 'not',
  'pattern', 'minLength', 'maxLength',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'properties', 'required', 'additionalProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'items', 'minItems', 'maxItems',
]);

/** Edge values that break naive parsers: empty, zero, negative, huge, wrong types, unstorable text. */
const EDGES: readonly unknown[] = [
  null, true, false, 0, -1, 1, 1.5, 2 ** 31, 2 ** 31 - 1, 2 ** 53, -(2 ** 53), '', ' ', '0', '-1', '1', '00', 'null', 'true',
  'x'.repeat(256), '\u0000', 'é', '😀'.repeat(200), '%', '..', [], {}, [null], { '': '' },
];

export function hostile(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constantFrom(...EDGES), fc.jsonValue({ maxDepth: 3 }));
}

// fast-check takes a second or more to build a matcher of a Unicode property class: once each.
const matchers = new Map<string, fc.Arbitrary<string>>();

export class SchemaArbitraries {
  constructor(
    private readonly ajv: Ajv2020,
    private readonly pools: Pools = {},
  ) {}

  private check(schema: JsonSchema) {
    for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`json-schema-arbitrary: keyword ${key} is not supported`);
  }

  private accepts(schema: JsonSchema): (v: unknown) => boolean {
    const validate = this.ajv.compile(schema);
    return (v) => validate(v) as boolean;
  }

  /** Values `schema` accepts. */
  valid(schema: JsonSchema | boolean): fc.Arbitrary<unknown> {
    if (schema === true) return fc.jsonValue({ maxDepth: 2 });
    if (schema === false) throw new Error('json-schema-arbitrary: nothing is valid against false');
    this.check(schema);
    let arb = this.base(schema);
    if (schema.not) {
      const excluded = this.accepts(schema.not);
      arb = arb.filter((v) => !excluded(v));
    }
    if (schema.allOf && !(schema.type === 'string')) {
      const all = this.accepts({ allOf: schema.allOf });
      arb = arb.filter(all);
    }
    return arb;
  }

  private base(schema: JsonSchema): fc.Arbitrary<unknown> {
    if ('const' in schema) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
    if ((schema.anyOf || schema.oneOf) && schema.type !== 'object') {
      const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[];
      return fc.oneof(...branches.map((b) => this.valid(b)));
    }
    const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
    return fc.oneof(...types.map((t) => this.ofType(t, schema)));
  }

  private ofType(type: string, s: JsonSchema): fc.Arbitrary<unknown> {
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({ min: s.minimum ?? -(2 ** 40), max: s.maximum ?? 2 ** 40 });
      case 'number':
        return fc.double({ min: s.minimum, max: s.maximum, noNaN: true, noDefaultInfinity: true });
      case 'string':
        return this.string(s);
      case 'array':
        return fc.array(s.items ? this.valid(s.items) : fc.jsonValue({ maxDepth: 1 }), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
      case 'object':
        return this.object(s);
      default:
        throw new Error(`json-schema-arbitrary: type ${type} is not supported`);
    }
  }

  private string(s: JsonSchema): fc.Arbitrary<string> {
    const patterns: string[] = [s.pattern, ...((s.allOf ?? []) as JsonSchema[]).map((p) => p.pattern)].filter((p): p is string => typeof p === 'string');
    const regexes = patterns.map((p) => new RegExp(p, 'u'));
    const lengthOk = (v: string) => [...v].length >= (s.minLength ?? 0) && (s.maxLength === undefined || [...v].length <= s.maxLength);
    const fits = (v: string) => lengthOk(v) && regexes.every((r) => r.test(v));
    let arb: fc.Arbitrary<string>;
    if (patterns.length === 0) {
      arb = fc.string({ unit: 'binary', minLength: s.minLength ?? 0, maxLength: s.maxLength ?? 40 });
    } else {
      // The most specific pattern drives generation; the others and the lengths filter.
      const driver = patterns.at(-1)!;
      if (!matchers.has(driver)) matchers.set(driver, fc.stringMatching(new RegExp(driver, 'u')));
      arb = matchers.get(driver)!.filter(fits);
    }
    if (patterns[0] === UUID_SOURCE && this.pools.uuids?.length) {
      arb = fc.oneof({ arbitrary: fc.constantFrom(...this.pools.uuids), weight: 3 }, { arbitrary: arb, weight: 1 });
    }
    return arb;
  }

  private object(s: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set<string>(s.required ?? []);
    // `{not: {}}` (zod's never) admits nothing, like false.
    const extra = s.additionalProperties && Object.keys(s.additionalProperties).join() === 'not' && Object.keys(s.additionalProperties.not).length === 0 ? false : s.additionalProperties;
    // Cinder's "at least one of": pick one alternative and make its keys (and their own
    // constraints) present.
    const alternatives = ((s.anyOf ?? s.oneOf ?? [{}]) as JsonSchema[]).map((alt) => {
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      const keys = new Set([...required, ...((alt.required ?? []) as string[])]);
      for (const [name, schema] of Object.entries(properties)) {
        const narrowed = alt.properties?.[name];
        let arb = narrowed ? this.valid(schema).filter(this.accepts(narrowed)) : this.valid(schema);
        const offered = this.pools.named?.[name]?.filter(this.accepts(schema));
        if (offered?.length) arb = fc.oneof({ arbitrary: fc.constantFrom(...offered), weight: 3 }, { arbitrary: arb, weight: 1 });
        model[name] = arb;
      }
      return fc.record(model, { requiredKeys: [...keys] });
    });
    let known: fc.Arbitrary<Record<string, unknown>> = fc.oneof(...alternatives);
    if (extra !== undefined && extra !== false) {
      let keyArb = s.propertyNames ? (this.valid(s.propertyNames) as fc.Arbitrary<string>) : fc.string({ maxLength: 12 });
      // Mostly keys that exist: an operation whose success needs the body's key to be the URL's
      // (PUT …/metadata/{key}) then succeeds in 3 of 4 well-formed requests, not 1 in 2, so "it
      // succeeded at least once" does not hang on luck.
      if (s.propertyNames && this.pools.keys?.length) {
        keyArb = fc.oneof({ arbitrary: fc.constantFrom(...this.pools.keys), weight: 3 }, { arbitrary: keyArb, weight: 1 });
      }
      const free = fc.dictionary(
        keyArb.filter((k) => !Object.hasOwn(properties, k)),
        this.valid(extra === true ? {} : extra),
        { minKeys: Object.keys(properties).length ? 0 : (s.minProperties ?? 0), maxKeys: Math.min(s.maxProperties ?? 3, 3) },
      );
      // Beside documented keys, extra ones are drawn 1 time in 4: where they must name rows the
      // document cannot list (a quota set's `volumes_<type>`), a random one is refused, and a
      // well-formed request must still succeed more often than not.
      const extras = Object.keys(properties).length && !s.propertyNames ? fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, { arbitrary: free, weight: 1 }) : free;
      known = fc.tuple(known, extras).map(([a, b]) => ({ ...b, ...a }));
    }
    const fitsCount = (o: object) => Object.keys(o).length >= (s.minProperties ?? 0) && Object.keys(o).length <= (s.maxProperties ?? Infinity);
    return known.filter(fitsCount);
  }

  /** A valid value with one part changed: a value replaced by hostile JSON, a key dropped, or an unknown key added. */
  nearlyValid(schema: JsonSchema): fc.Arbitrary<unknown> {
    return fc.tuple(this.valid(schema), fc.nat(), fc.constantFrom('replace', 'drop', 'add'), hostile()).map(([value, pick, how, junk]) => mutate(value, pick, how, junk));
  }

  /** Valid, nearly valid and hostile values, mostly the first two. */
  any(schema: JsonSchema): fc.Arbitrary<unknown> {
    return fc.oneof(
      { arbitrary: this.valid(schema), weight: 4 },
      { arbitrary: this.nearlyValid(schema), weight: 3 },
      { arbitrary: hostile(), weight: 1 },
    );
  }
}

type Path = (string | number)[];

function paths(value: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

function mutate(value: unknown, pick: number, how: 'replace' | 'drop' | 'add', junk: unknown): unknown {
  const copy = structuredClone(value);
  const all = paths(copy);
  const path = all[pick % all.length]!;
  if (path.length === 0) return how === 'add' && copy !== null && typeof copy === 'object' ? { ...copy, unexpected_key: junk } : junk;
  const parent = path.slice(0, -1).reduce<any>((node, k) => node[k], copy);
  const last = path.at(-1)!;
  if (how === 'replace') parent[last] = junk;
  else if (how === 'drop') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
  else if (Array.isArray(parent)) parent.push(junk);
  else parent.unexpected_key = junk;
  return copy;
}
