// A short, bounded JSON summary of an event for the history (never the whole request).
import type { SnapshotEvent } from '../../machines/snapshot.js';

// Room for a reconcile verdict's evidence (chain, locks, compute's report), which is the point of
// recording it; every other event is far shorter.
const PAYLOAD_LIMIT = 4000;

export function eventPayload(event: SnapshotEvent): string | null {
  const { type: _type, ...rest } = event;
  if (Object.keys(rest).length === 0) return null;
  const text = JSON.stringify(rest);
  return text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT - 1)}…` : text;
}
