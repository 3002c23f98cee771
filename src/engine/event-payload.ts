// A short, bounded JSON summary of an event for the history (never the whole request).
// Room for a reconcile verdict's evidence (chain, locks, compute's report), which is the point of
// recording it; every other event is far shorter.
const PAYLOAD_LIMIT = 4000;

/** Any machine's event: its type is the history's event_type, the rest goes here. */
export function eventPayload(event: { type: string }): string | null {
  const { type: _type, ...rest } = event;
  if (Object.keys(rest).length === 0) return null;
  const text = JSON.stringify(rest);
  return text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT - 1)}…` : text;
}
