import type { Logger } from 'pino'
import type { Config } from './config.ts'
import type { Database } from './db/database.ts'
import type { Dispatcher } from './dispatch/dispatcher.ts'
import type { InboxProcessor } from './inbox/inbox-processor.ts'
import type { InstallService } from './installations/install-service.ts'
import type { TokenManager } from './installations/token-manager.ts'
import type { CrmAdapters } from './installations/crm-adapters.ts'
import type { SegmentScheduler } from './segments/segment-scheduler.ts'
import type { SegmentSyncer } from './segments/segment-sync.ts'
import type { InboxWriter } from './inbox/inbox-writer.ts'
import type { Metrics } from './observability/metrics.ts'
import type { SecretBox } from './security/secret-box.ts'
import type { WhatsAppClient } from './whatsapp/graph-client.ts'

/** What routes are given: the domain's collaborators, built once by buildApp. */
export interface Services {
  config: Config
  db: Database
  log: Logger
  secrets: SecretBox
  graph: WhatsAppClient
  metrics: Metrics
  inboxWriter: InboxWriter
  inboxProcessor: InboxProcessor
  dispatcher: Dispatcher
  tokens: TokenManager
  install: InstallService
  crm: CrmAdapters
  syncer: SegmentSyncer
  scheduler: SegmentScheduler
}

export interface RouteOptions {
  services: Services
}
