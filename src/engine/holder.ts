import type { Engine } from './engine.js'

/**
 * Holds the engine in use. A Check reads `current()` once and keeps that engine to the end,
 * so a reload swapping in a new one never changes a decision mid-call.
 */
export class EngineHolder {
  #engine: Engine

  constructor(engine: Engine) {
    this.#engine = engine
  }

  current(): Engine {
    return this.#engine
  }

  swap(next: Engine): void {
    this.#engine = next
  }
}
