// The engine's event bus, typed: what it announces after each commit, and a listen-only face for
// whoever listens (workers, metrics, the transition feed, logs). Listeners run synchronously in
// commit order, inside the request that delivered the event when there is one, so a listener can
// read the request's context (its id, its arrival time).
import { EventEmitter } from 'node:events';
import type { CommittedTransition, ParentTransitionCommitted, VolumeTransitionCommitted } from './types.js';

export interface EngineEventMap {
  /** One accepted transition, once its commit is durable. */
  transition: [transition: CommittedTransition];
  /** One accepted transition of a volume's machine, once its commit is durable. */
  volumeTransition: [transition: VolumeTransitionCommitted];
  /** One accepted transition of a group's or group snapshot's machine, once committed. */
  parentTransition: [transition: ParentTransitionCommitted];
}

export type EngineEventName = keyof EngineEventMap;
export type EngineListener<K extends EngineEventName> = (...args: EngineEventMap[K]) => void;

/** What listeners get: subscribe and unsubscribe, never emit. */
export interface EngineEvents {
  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): void;
  off<K extends EngineEventName>(event: K, listener: EngineListener<K>): void;
}

export class EngineEventBus implements EngineEvents {
  readonly #emitter = new EventEmitter();

  constructor(maxListeners = 100) {
    this.#emitter.setMaxListeners(maxListeners);
  }

  on<K extends EngineEventName>(event: K, listener: EngineListener<K>): void {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
  }

  off<K extends EngineEventName>(event: K, listener: EngineListener<K>): void {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
  }

  emit<K extends EngineEventName>(event: K, ...args: EngineEventMap[K]): void {
    this.#emitter.emit(event, ...args);
  }
}
