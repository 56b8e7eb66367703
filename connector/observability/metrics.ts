import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

// One registry per app instance, so several apps in one process (tests) do not collide.

export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    webhooks: new Counter({ name: 'connector_webhooks_total', help: 'Webhook requests by source and outcome', labelNames: ['source', 'outcome'], registers: [registry] }),
    inboxProcessed: new Counter({ name: 'connector_inbox_processed_total', help: 'Inbox rows processed by source and outcome', labelNames: ['source', 'outcome'], registers: [registry] }),
    inboxLag: new Histogram({ name: 'connector_inbox_lag_seconds', help: 'Time from webhook receipt to processing', labelNames: ['source'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600], registers: [registry] }),
    inboxPending: new Gauge({ name: 'connector_inbox_pending', help: 'Inbox rows waiting to be processed', registers: [registry] }),
    events: new Counter({ name: 'connector_whatsapp_events_total', help: 'WhatsApp webhook events applied, by kind and detail', labelNames: ['kind', 'detail'], registers: [registry] }),
    sends: new Counter({ name: 'connector_sends_total', help: 'Send attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    platformErrors: new Counter({ name: 'connector_platform_errors_total', help: 'Errors returned by Graph and the CRMs, by platform and code', labelNames: ['platform', 'code'], registers: [registry] }),
    graphCalls: new Counter({ name: 'connector_graph_calls_total', help: 'Graph API calls by endpoint and HTTP status', labelNames: ['endpoint', 'status'], registers: [registry] }),
    writebacks: new Counter({ name: 'connector_writebacks_total', help: 'CRM write-backs settled, by CRM and outcome', labelNames: ['crm', 'outcome'], registers: [registry] }),
    writebackPending: new Gauge({ name: 'connector_writeback_pending', help: 'CRM write-backs waiting in the outbox, by CRM', labelNames: ['crm'], registers: [registry] }),
    writebackOldestPending: new Gauge({ name: 'connector_writeback_oldest_pending_seconds', help: 'Age of the oldest pending CRM write-back, by CRM', labelNames: ['crm'], registers: [registry] }),
    crmCalls: new Counter({ name: 'connector_crm_calls_total', help: 'CRM API calls by CRM, endpoint and HTTP status', labelNames: ['crm', 'endpoint', 'status'], registers: [registry] }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
