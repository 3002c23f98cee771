// Whether a snapshot's create pauses the guest around the overlay switch (crash-consistent
// snapshots). The storage side decides it per request, and the snapshot machine then owes a
// resume on every way out of the create's compute phase.
import { InvalidRequest } from './errors.js';

/** The key, both as a volume type extra spec and as a snapshot create metadata key. */
export const PAUSE_GUEST_KEY = 'assisted_snapshots:pause_guest';

export interface GuestPausePolicy {
  /** Compute can pause guests (it is the compute agent: see ComputeClient.guest). */
  supported: boolean;
  /** Without a request or volume type saying otherwise (COMPUTE_AGENT_PAUSE_GUEST). */
  byDefault: boolean;
}

export const noGuestPause: GuestPausePolicy = { supported: false, byDefault: false };

/** oslo's strutils.bool_from_string, strict: what Cinder accepts for boolean extra specs. */
function parseFlag(value: string, where: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  throw new InvalidRequest(`Invalid input received: ${where} ${PAUSE_GUEST_KEY} must be a boolean, not '${value}'.`);
}

/**
 * The request's metadata key wins over the volume type, which wins over the default. Only an
 * assisted create can pause (nobody runs the guest otherwise). An explicit request for a pause
 * that compute cannot do is refused rather than silently taken as a snapshot without one; a
 * default or volume type asking for it just does not pause there.
 */
export function decideGuestPause(
  policy: GuestPausePolicy,
  /** The volume type's extra spec PAUSE_GUEST_KEY, if it has one. */
  typeSetting: string | undefined,
  metadata: Record<string, string> | undefined,
  assisted: boolean,
): boolean {
  const requested = metadata?.[PAUSE_GUEST_KEY];
  const fromRequest = requested === undefined ? undefined : parseFlag(requested, 'metadata');
  if (fromRequest === true && !policy.supported) {
    throw new InvalidRequest(`Invalid input received: metadata ${PAUSE_GUEST_KEY} asks for a guest pause, which the compute service cannot do.`);
  }
  if (!assisted || !policy.supported) return false;
  if (fromRequest !== undefined) return fromRequest;
  if (typeSetting !== undefined) return parseFlag(typeSetting, 'volume type extra spec');
  return policy.byDefault;
}
