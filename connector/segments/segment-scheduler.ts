import cron, { type ScheduledTask } from 'node-cron'
import type { Logger } from 'pino'
import type { Database } from '../db/database.ts'
import { findInstallation } from '../installations/installation-repository.ts'
import { findSegment, listSegments } from './segment-repository.ts'
import { SyncAlreadyRunningError, type SegmentSyncer } from './segment-sync.ts'

// Runs segments' cron schedules. Every connector instance ticks, but a tick only starts a sync
// when it can claim the segment (see SegmentSyncer), so each scheduled sync runs once; a sync
// still running when its next tick comes is skipped and logged.

export class SegmentScheduler {
  readonly #tasks = new Map<string, ScheduledTask>()
  readonly #d: { db: Database; syncer: SegmentSyncer; log: Logger }

  constructor(deps: { db: Database; syncer: SegmentSyncer; log: Logger }) {
    this.#d = deps
  }

  async start(): Promise<void> {
    for (const s of await listSegments(this.#d.db)) if (s.schedule) this.schedule(s.id, s.schedule)
  }

  schedule(segmentId: string, expression: string): void {
    this.#tasks.get(segmentId)?.stop()
    this.#tasks.set(segmentId, cron.schedule(expression, () => this.tick(segmentId), { noOverlap: true }))
  }

  async tick(segmentId: string): Promise<'started' | 'skipped'> {
    try {
      // An uninstalled or re-authorisation-pending installation does no background work.
      const segment = await findSegment(this.#d.db, segmentId)
      const installation = segment && await findInstallation(this.#d.db, segment.installationId)
      if (installation?.status !== 'active') {
        this.#d.log.info({ segmentId, installationStatus: installation?.status ?? 'gone' }, 'scheduled sync skipped: the installation is not active')
        return 'skipped'
      }
      await this.#d.syncer.start(segmentId, 'schedule')
      return 'started'
    } catch (error) {
      if (error instanceof SyncAlreadyRunningError) {
        this.#d.log.info({ segmentId, runningSyncId: error.syncId }, 'scheduled sync skipped: the previous one is still running')
        return 'skipped'
      }
      this.#d.log.error({ segmentId, err: error }, 'scheduled sync could not start')
      return 'skipped'
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#tasks.values()) await t.stop()
    this.#tasks.clear()
  }
}

export function validCron(expression: string): boolean {
  return cron.validate(expression)
}
