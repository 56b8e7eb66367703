import type { Logger } from 'pino'
import { CrmProviders } from '../crm-adapters/registry.ts'
import type { Config } from './config.ts'
import { KeywordMatcher } from './consent/keywords.ts'
import { openDatabase, type Database } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { Dispatcher } from './dispatch/dispatcher.ts'
import { hubspotInboxHandler } from './inbox/hubspot-events.ts'
import { InboxProcessor } from './inbox/inbox-processor.ts'
import { InboxWriter } from './inbox/inbox-writer.ts'
import { whatsappInboxHandler } from './inbox/whatsapp-events.ts'
import { CrmAdapters } from './installations/crm-adapters.ts'
import { InstallService } from './installations/install-service.ts'
import { OAuthStates } from './installations/oauth-state.ts'
import { TokenManager } from './installations/token-manager.ts'
import { loadManifest, salesforceMessageIdField, type Manifest } from './manifest/manifest.ts'
import { createLogger } from './observability/logger.ts'
import { createMetrics, type Metrics } from './observability/metrics.ts'
import { ensurePersonHashKey } from './people/person-hash-key.ts'
import { SegmentScheduler } from './segments/segment-scheduler.ts'
import { SegmentSyncer } from './segments/segment-sync.ts'
import { resolveEncryptionKey } from './security/encryption-key.ts'
import { SecretBox } from './security/secret-box.ts'
import { GraphClient, type WhatsAppClient } from './whatsapp/graph-client.ts'
import { WritebackDrainer } from './writeback/writeback-drainer.ts'

// The domain, composed once from configuration and the manifest, apart from HTTP: buildApp hands
// it to the routes, and start/stop run its workers.

export interface ServiceOptions {
  /** An open database to use instead of the configured one (tests share one). Not closed by stop(). */
  db?: Database
  /** The app's registration; default: manifest.json beside the connector. */
  manifest?: Manifest
  /** The outside world, swapped in tests. */
  graph?: WhatsAppClient
  providers?: CrmProviders
  /** Where logs go; default: stdout at the configured level. */
  log?: Logger
}

export interface Services {
  config: Config
  manifest: Manifest
  db: Database
  log: Logger
  secrets: SecretBox
  graph: WhatsAppClient
  metrics: Metrics
  providers: CrmProviders
  inboxWriter: InboxWriter
  inboxProcessor: InboxProcessor
  dispatcher: Dispatcher
  tokens: TokenManager
  install: InstallService
  crm: CrmAdapters
  syncer: SegmentSyncer
  scheduler: SegmentScheduler
  writebacks: WritebackDrainer
  /** Starts the background workers (inbox, dispatch, schedules). */
  start(): Promise<void>
  /** Stops the workers after their work in flight, and closes the database if it opened it. */
  stop(): Promise<void>
}

export interface RouteOptions {
  services: Services
}

/** The CRM providers this configuration and manifest describe. */
export function providersFor(config: Config, manifest: Manifest): CrmProviders {
  const { hubspot, salesforce } = config
  return CrmProviders.create({
    hubspot: {
      ...(hubspot.clientId && hubspot.clientSecret ? { credentials: { clientId: hubspot.clientId, clientSecret: hubspot.clientSecret } } : {}),
      apiBase: hubspot.apiBase,
      authUrl: hubspot.authUrl,
      requiredScopes: [...manifest.hubspot.requiredScopes],
      optionalScopes: [...manifest.hubspot.optionalScopes],
      ...(hubspot.rateLimit ? { rateLimit: hubspot.rateLimit } : {}),
      consentProperty: manifest.hubspot.properties.consentProperty,
      consentDateProperty: manifest.hubspot.properties.consentDateProperty,
      consentSourceProperty: manifest.hubspot.properties.consentSourceProperty,
      properties: { group: manifest.hubspot.properties.group, contact: manifest.hubspot.properties.contact },
      setupHint: 'set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET',
    },
    salesforce: {
      ...(salesforce.clientId && salesforce.clientSecret ? { credentials: { clientId: salesforce.clientId, clientSecret: salesforce.clientSecret } } : {}),
      loginUrl: salesforce.loginUrl,
      scopes: [...manifest.salesforce.scopes],
      apiVersion: manifest.salesforce.apiVersion,
      fields: { optIn: manifest.salesforce.consentField, optInDate: manifest.salesforce.consentDateField, messageId: salesforceMessageIdField(manifest) },
      ...(salesforce.namespace ? { namespace: salesforce.namespace } : {}),
      dailyLimitFraction: salesforce.dailyLimitFraction,
      setupHint: 'set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET',
    },
  })
}

export async function createServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  const log = options.log ?? createLogger(config.logLevel)
  const manifest = options.manifest ?? loadManifest()
  const ownsDb = !options.db
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }))
  try {
    const result = await migrate(db)
    if (result.applied.length) log.info({ applied: result.applied }, 'migrations applied')
  } catch (error) {
    if (ownsDb) await db.close()
    throw error
  }

  const metrics = createMetrics()
  const encryptionKey = resolveEncryptionKey(config.encryptionKey, config.dataDir, log)
  const secrets = new SecretBox(encryptionKey, config.encryptionPreviousKeys)
  await ensurePersonHashKey(db, encryptionKey)
  const graph = options.graph ?? new GraphClient({
    baseUrl: config.whatsapp.graphUrl,
    version: config.whatsapp.graphVersion,
    onCall: ({ endpoint, status, code }) => {
      metrics.graphCalls.inc({ endpoint, status: String(status) })
      if (code !== undefined) metrics.platformErrors.inc({ platform: 'graph', code: String(code) })
    },
  })
  const providers = options.providers ?? providersFor(config, manifest)
  const onEvent = (kind: string, detail: string) => metrics.events.inc({ kind, detail })
  const keywords = new KeywordMatcher(config.consent.optOutKeywords, config.consent.optInKeywords)
  const inboxProcessor = new InboxProcessor({
    db,
    log: log.child({ component: 'inbox' }),
    handlers: {
      whatsapp: whatsappInboxHandler({ keywords, log, optOutReply: config.consent.optOutReply, optInReply: config.consent.optInReply, onEvent }),
      hubspot: hubspotInboxHandler({ consentProperty: manifest.hubspot.properties.consentProperty, appId: config.hubspot.appId, log, onEvent }),
    },
    onProcessed: (outcome, source, lagMs) => {
      metrics.inboxProcessed.inc({ source, outcome })
      if (outcome === 'processed') metrics.inboxLag.observe({ source }, lagMs / 1000)
    },
  })
  const inboxWriter = new InboxWriter(db, {
    maxConcurrent: db.kind === 'pglite' ? 1 : 4,
    onWritten: () => inboxProcessor.nudge(),
  })
  const dispatcher = new Dispatcher({
    db,
    graph,
    secrets,
    log: log.child({ component: 'dispatch' }),
    onSend: (outcome, code) => {
      metrics.sends.inc({ outcome })
      if (code !== undefined) metrics.platformErrors.inc({ platform: 'graph', code: String(code) })
    },
  })
  const tokens = new TokenManager({ db, secrets, providers, log: log.child({ component: 'tokens' }) })
  const crm = new CrmAdapters({ db, tokens, providers, metrics })
  const install = new InstallService({ db, secrets, states: new OAuthStates(db, secrets, encryptionKey), providers, crm, log, publicUrl: config.publicUrl,
    redirectPaths: { hubspot: manifest.hubspot.oauth.redirectPath, salesforce: manifest.salesforce.oauth.redirectPath },
  })
  const syncer = new SegmentSyncer({ db, crm, log: log.child({ component: 'segments' }) })
  const scheduler = new SegmentScheduler({ db, syncer, log: log.child({ component: 'schedules' }) })
  const writebacks = new WritebackDrainer({ db, crm, providers, log: log.child({ component: 'writeback' }),
    onOutcome: (crmKind, outcome, count) => metrics.writebacks.inc({ crm: crmKind, outcome }, count),
  })

  return {
    config, manifest, db, log, secrets, graph, metrics, providers, inboxWriter, inboxProcessor, dispatcher, tokens, install, crm, syncer, scheduler, writebacks,
    async start() {
      inboxProcessor.start()
      dispatcher.start()
      writebacks.start()
      await scheduler.start()
    },
    async stop() {
      await scheduler.stop()
      await syncer.drain()
      await inboxWriter.drain()
      await inboxProcessor.stop()
      await dispatcher.stop()
      await writebacks.stop()
      if (ownsDb) await db.close()
    },
  }
}
