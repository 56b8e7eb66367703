import type { Queryable } from '../db/database.ts'
import { insertInboxBodies, type InboxSource, type InboxState } from './inbox-repository.ts'

// Stores webhook bodies durably before they are acknowledged. Requests arriving together are
// written in one multi-row INSERT (group commit): each request still waits for the commit that
// holds its body, but a burst of webhooks costs one round trip and one WAL flush instead of one each.

interface Pending {
  source: InboxSource
  body: Buffer
  state: InboxState
  resolve: () => void
  reject: (error: unknown) => void
}

export interface InboxWriterOptions {
  /** Most rows in one INSERT. */
  maxBatch?: number
  /** INSERTs in flight at once (1 on PGlite, which runs one statement at a time anyway). */
  maxConcurrent?: number
  onWritten?: (rows: number) => void
}

export class InboxWriter {
  readonly #db: Queryable
  readonly #maxBatch: number
  readonly #maxConcurrent: number
  readonly #onWritten: ((rows: number) => void) | undefined
  #queue: Pending[] = []
  #inFlight = 0
  #scheduled = false

  constructor(db: Queryable, options: InboxWriterOptions = {}) {
    this.#db = db
    this.#maxBatch = options.maxBatch ?? 500
    this.#maxConcurrent = options.maxConcurrent ?? 2
    this.#onWritten = options.onWritten
  }

  /** Resolves once the body is committed. */
  write(source: InboxSource, body: Buffer, state: InboxState = 'pending'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ source, body, state, resolve, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxConcurrent || !this.#queue.length) return
    this.#scheduled = true
    // setImmediate lets every request parsed in this turn of the event loop join the batch.
    setImmediate(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, this.#maxBatch)
    if (!batch.length) return
    this.#inFlight++
    try {
      await insertInboxBodies(this.#db, batch)
      for (const p of batch) p.resolve()
      this.#onWritten?.(batch.length)
    } catch (error) {
      for (const p of batch) p.reject(error)
    } finally {
      this.#inFlight--
      this.#schedule()
    }
  }

  /** Waits until everything queued so far is written (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#queue.length || this.#inFlight) await new Promise((r) => setTimeout(r, 5))
  }
}
