import type { Logger } from 'pino'
import { isConnectionError, type Database, type Transaction } from '../db/database.ts'
import { claimPendingInbox, markInboxAttemptFailed, markInboxProcessed, markInboxUnprocessable, type InboxRow, type InboxSource } from './inbox-repository.ts'
import { PollingWorker } from '../jobs/polling-loop.ts'

// Drains the inbox, separately from intake. Rows are claimed with FOR UPDATE SKIP LOCKED so
// several connector instances share the work without taking the same row; handlers are
// idempotent, so a row processed twice after a crash changes nothing the second time.

/** Applies stored bodies; given several at once it may apply them set-wise (one statement for many). */
export type InboxHandler = (tx: Transaction, items: Array<{ body: unknown; receivedAt: Date }>) => Promise<void>

export interface InboxProcessorOptions {
  db: Database
  log: Logger
  handlers: Partial<Record<InboxSource, InboxHandler>>
  batchSize?: number
  pollMs?: number
  maxAttempts?: number
  onProcessed?: (outcome: 'processed' | 'retry' | 'failed', source: string, lagMs: number) => void
}

function parseBody(row: InboxRow): unknown {
  return JSON.parse(Buffer.from(row.body).toString('utf8'))
}

function groupBySource(rows: InboxRow[]): Map<InboxSource, InboxRow[]> {
  const groups = new Map<InboxSource, InboxRow[]>()
  for (const row of rows) groups.set(row.source, [...(groups.get(row.source) ?? []), row])
  return groups
}

/** Thrown by a handler for a body that can never be applied: the row is kept as unprocessable with the reason, not retried. */
export class UnprocessableBodyError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'UnprocessableBodyError'
  }
}

class RowFailed extends Error {
  constructor(cause: unknown) {
    super('an inbox row failed', { cause })
  }
}

export class InboxProcessor extends PollingWorker {
  readonly #o: Required<Omit<InboxProcessorOptions, 'onProcessed'>> & Pick<InboxProcessorOptions, 'onProcessed'>

  constructor(options: InboxProcessorOptions) {
    super(options.pollMs ?? 250)
    this.#o = { batchSize: 200, pollMs: 250, maxAttempts: 8, ...options }
  }

  protected async pass(): Promise<void> {
    try {
      while (!this.stopped && (await this.drainOnce()) > 0) { /* keep draining while there is work */ }
    } catch (error) {
      if (isConnectionError(error)) this.#o.log.warn('inbox processing paused: database unreachable')
      else this.#o.log.error({ err: error }, 'inbox processing failed')
    }
  }

  /**
   * Processes one batch; returns how many rows it claimed. The batch first runs in one handler
   * call per source, so handlers can apply it set-wise; if anything fails, the transaction is
   * rolled back and the batch redone with a savepoint per row, so one bad row cannot block the rest.
   */
  async drainOnce(): Promise<number> {
    try {
      return await this.#drain(false)
    } catch (error) {
      if (error instanceof RowFailed) return this.#drain(true)
      throw error
    }
  }

  async #drain(isolateRows: boolean): Promise<number> {
    return this.#o.db.transaction(async (tx) => {
      const rows = await claimPendingInbox(tx, this.#o.batchSize)
      const done: InboxRow[] = []
      if (!isolateRows) {
        // Fast path: each source's rows in one handler call; any failure redoes the batch row by row.
        for (const [source, group] of groupBySource(rows)) {
          const handler = this.#o.handlers[source]
          try {
            if (!handler) throw new Error(`no handler for inbox source ${source}`)
            await handler(tx, group.map((row) => ({ body: parseBody(row), receivedAt: row.received_at })))
          } catch (error) {
            if (isConnectionError(error)) throw error
            throw new RowFailed(error)
          }
          done.push(...group)
        }
      } else {
        for (const row of rows) {
          const handler = this.#o.handlers[row.source]
          await tx.query('SAVEPOINT inbox_row')
          try {
            if (!handler) throw new Error(`no handler for inbox source ${row.source}`)
            await handler(tx, [{ body: parseBody(row), receivedAt: row.received_at }])
            await tx.query('RELEASE SAVEPOINT inbox_row')
            done.push(row)
          } catch (error) {
            if (isConnectionError(error)) throw error
            await tx.query('ROLLBACK TO SAVEPOINT inbox_row')
            if (error instanceof UnprocessableBodyError) {
              await markInboxUnprocessable(tx, row.id, error.message)
              this.#o.log.warn({ inboxId: row.id, reason: error.message }, 'inbox row unprocessable')
            } else await this.#fail(tx, row, error)
          }
        }
      }
      await markInboxProcessed(tx, done.map((r) => r.id))
      for (const row of done) this.#o.onProcessed?.('processed', row.source, Date.now() - row.received_at.getTime())
      return rows.length
    })
  }

  async #fail(tx: Transaction, row: InboxRow, error: unknown): Promise<void> {
    const attempts = row.attempts + 1
    const final = attempts >= this.#o.maxAttempts
    // Exponential backoff: 1 s, 2 s, 4 s … so a handler bug does not spin, yet a transient fault clears quickly.
    await markInboxAttemptFailed(tx, row.id, { attempts, error: String((error as Error)?.message ?? error).slice(0, 1000), final, retryInSeconds: 2 ** (attempts - 1) })
    this.#o.log.warn({ inboxId: row.id, attempts, err: error }, final ? 'inbox row failed for good' : 'inbox row failed; will retry')
    this.#o.onProcessed?.(final ? 'failed' : 'retry', row.source, Date.now() - row.received_at.getTime())
  }
}
