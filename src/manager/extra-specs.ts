// Cinder's scheduler CapabilitiesFilter (cinder/scheduler/filters/capabilities_filter.py and
// extra_specs_ops.py): whether a backend's capabilities satisfy a volume type's extra specs.
// A volume whose type the one backend cannot satisfy has no valid backend: Cinder puts it in
// error and records the user message "schedule allocate volume:Could not find any available
// weighted backend." (manager/messages.ts ACTIONS.SCHEDULE_ALLOCATE_VOLUME, DETAILS.NO_BACKEND_AVAILABLE).

const TRUE_WORDS = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const asBool = (v: string) => TRUE_WORDS.has(v.trim().toLowerCase());

function num(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) throw new RangeError(v);
  return n;
}

const OPS: Record<string, (value: string, wanted: string) => boolean> = {
  '=': (x, y) => num(x) >= num(y),
  '<in>': (x, y) => x.includes(y),
  '<is>': (x, y) => asBool(x) === asBool(y),
  '==': (x, y) => num(x) === num(y),
  '!=': (x, y) => num(x) !== num(y),
  '>=': (x, y) => num(x) >= num(y),
  '<=': (x, y) => num(x) <= num(y),
  's==': (x, y) => x === y,
  's!=': (x, y) => x !== y,
  's<': (x, y) => x < y,
  's<=': (x, y) => x <= y,
  's>': (x, y) => x > y,
  's>=': (x, y) => x >= y,
};

/** extra_specs_ops.match: `req` is "<op> operand", "<or> a <or> b", or a plain value compared as text. */
export function matchSpec(value: string | null, req: string | null): boolean {
  if (req === null) return value === null;
  const words = req.split(/\s+/).filter(Boolean);
  const op = words.shift();
  const method = op !== undefined ? OPS[op] : undefined;
  if (op !== '<or>' && !method) return value === req;
  if (value === null) return false;
  if (op === '<or>') {
    // "<or> v1 <or> v2": every other word is an alternative.
    for (let i = 0; i < words.length; i += 2) if (words[i] === value) return true;
    return false;
  }
  try {
    return words.length > 0 && method!(value, words[0]!);
  } catch {
    return false;
  }
}

/** Cinder's storage protocol variants: the canonical name first (cinder.common.constants). */
const PROTOCOL_VARIANTS = [['iSCSI', 'iscsi'], ['FC', 'fibre_channel', 'fc'], ['NFS', 'nfs'], ['NVMe-oF', 'NVMeOF', 'nvmeof']];

function capabilityText(key: string, value: unknown): string[] | null {
  if (value === undefined) return null;
  if (key === 'storage_protocol' && typeof value === 'string') {
    return PROTOCOL_VARIANTS.find((v) => v.some((p) => p.toLowerCase() === value.toLowerCase())) ?? [value];
  }
  return [typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value)];
}

/**
 * Null when `capabilities` satisfy every spec, else the first spec that fails. Specs scoped to
 * anything but "capabilities:" (vendor or QoS keys) are not the scheduler's; an unscoped or
 * capabilities-scoped key the backend does not report fails, as in Cinder.
 */
export function unmetSpec(extraSpecs: Readonly<Record<string, string>>, capabilities: Readonly<Record<string, unknown>>): string | null {
  for (const [key, wanted] of Object.entries(extraSpecs)) {
    const scope = key.split(':');
    if (scope.length > 1 && scope[0] !== 'capabilities') continue;
    if (scope[0] === 'capabilities') scope.shift();
    if (scope.length !== 1) return key;
    const values = capabilityText(scope[0]!, capabilities[scope[0]!]);
    if (!values || !values.some((v) => matchSpec(v, wanted))) return key;
  }
  return null;
}
