// Waits, by listening to the engine's committed volume transitions (never by sleeping), until a
// volume rests in one of `phases`; bounded. The row is read after subscribing, so a transition
// committed before the call is not missed either.
import type { Engine, VolumeTransitionCommitted } from '../../src/engine/engine.js';

export async function volumeSettled(engine: Engine, volumeId: string, phases: readonly string[] = ['available', 'error'], timeoutMs = 30_000): Promise<string> {
  let listener: ((t: VolumeTransitionCommitted) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const heard = new Promise<string>((resolve, reject) => {
    listener = (t) => {
      if (t.volumeId === volumeId && phases.includes(t.toPhase)) resolve(t.toPhase);
    };
    engine.events.on('volumeTransition', listener);
    timer = setTimeout(() => reject(new Error(`volume ${volumeId} did not reach ${phases.join(' or ')} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const row = await engine.store.readVolume(volumeId);
    if (row && phases.includes(row.phase)) return row.phase;
    return await heard;
  } finally {
    engine.events.off('volumeTransition', listener!);
    clearTimeout(timer);
  }
}
