/**
 * Nova's compute microversion negotiation, reduced to what the agent's routes depend on: 2.75
 * makes the delete refuse unknown query parameters. Versions outside [2.1, MAX] are refused with
 * 406 as Nova does; no header means 2.1.
 */
import {
  NOVA_API_VERSION_HEADER,
  NOVA_MAX_MICROVERSION as MAX_VERSION,
  NOVA_MIN_MICROVERSION as MIN_VERSION,
  OPENSTACK_API_VERSION_HEADER,
  type Microversion,
} from '../../contracts/nova.js';
import { ApiFault, badRequest } from '../../http/faults/index.js';

export type { Microversion } from '../../contracts/nova.js';

function fromHeaders(get: (name: string) => string | undefined): string | undefined {
  const generic = get(OPENSTACK_API_VERSION_HEADER.toLowerCase());
  if (generic) {
    for (const part of generic.split(',')) {
      const [service, version] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && version) return version;
    }
  }
  return get(NOVA_API_VERSION_HEADER.toLowerCase());
}

export function requestedMicroversion(get: (name: string) => string | undefined): Microversion {
  const raw = fromHeaders(get)?.trim();
  if (!raw) return { ...MIN_VERSION };
  if (raw.toLowerCase() === 'latest') return { ...MAX_VERSION };
  const match = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(raw);
  if (!match) throw badRequest(`API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const version = { major: Number(match[1]), minor: Number(match[2]) };
  if (compare(version, MIN_VERSION) < 0 || compare(version, MAX_VERSION) > 0) {
    throw new ApiFault(
      406,
      `Version ${raw} is not supported by the API. Minimum is ${MIN_VERSION.major}.${MIN_VERSION.minor} and maximum is ${MAX_VERSION.major}.${MAX_VERSION.minor}.`,
    );
  }
  return version;
}

export function compare(a: Microversion, b: Microversion): number {
  return a.major - b.major || a.minor - b.minor;
}
