// A short, bounded JSON summary of an event for the history (never the whole request).
const PAYLOAD_LIMIT = 500;

/** Any machine's event: its type is the history's event_type, the rest goes here. */
export function eventPayload(event: { type: string }): string | null {
  const { type: _type, ...rest } = event;
  if (Object.keys(rest).length === 0) return null;
  const text = JSON.stringify(rest);
  return text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT - 1)}…` : text;
}
