// Runs a worker's pass now when nudged, else every pollMs; never two passes at once. A nudge
// during a pass schedules another right after it, so work that arrives mid-pass is not left
// waiting for the next poll.

export class PollingLoop {
  readonly #pass: () => Promise<void>
  readonly #pollMs: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = true
  #again = false

  constructor(pass: () => Promise<void>, pollMs: number) {
    this.#pass = pass
    this.#pollMs = pollMs
  }

  get stopped(): boolean {
    return this.#stopped
  }

  start(): void {
    this.#stopped = false
    this.nudge()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  nudge(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    clearTimeout(this.#timer)
    this.#running = this.#pass().finally(() => {
      this.#running = undefined
      if (!this.#stopped) this.#timer = setTimeout(() => this.nudge(), this.#again ? 0 : this.#pollMs)
      this.#again = false
    })
  }
}

/** A background worker driven by a PollingLoop: subclasses say what one pass does. */
export abstract class PollingWorker {
  readonly #loop: PollingLoop

  constructor(pollMs: number) {
    this.#loop = new PollingLoop(() => this.pass(), pollMs)
  }

  /** One pass: do the work there is, then return; errors are the pass's to handle. */
  protected abstract pass(): Promise<void>

  protected get stopped(): boolean {
    return this.#loop.stopped
  }

  start(): void {
    this.#loop.start()
  }

  stop(): Promise<void> {
    return this.#loop.stop()
  }

  /** Asks for a pass now instead of at the next poll (new work was just written). */
  nudge(): void {
    this.#loop.nudge()
  }
}
