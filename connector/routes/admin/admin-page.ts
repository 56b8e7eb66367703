import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { inboxCountsByState } from '../../inbox/inbox-repository.ts'
import { listInstallations } from '../../installations/installation-repository.ts'
import { listNumbers } from '../../numbers/number-repository.ts'
import { segmentCounts } from '../../segments/membership-repository.ts'
import { listSegments, syncHistory } from '../../segments/segment-repository.ts'
import type { RouteOptions } from '../../services.ts'

// GET /admin: one server-rendered page with the state of the connector — installations, numbers,
// segments with their counts and last sync, and the webhook backlog — for the people running it.

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function table(headers: string[], rows: unknown[][], empty: string): string {
  if (!rows.length) return `<p class="empty">${esc(empty)}</p>`
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

export const adminPageRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/admin', { schema: { tags: ['operations'], summary: 'The admin page (HTML)' } }, async (_request, reply) => {
    const { db } = services
    const [installations, numbers, segments, inbox] = await Promise.all([
      listInstallations(db),
      listNumbers(db),
      listSegments(db),
      inboxCountsByState(db),
    ])
    const segmentRows = await Promise.all(segments.map(async (s) => {
      const [counts, last] = await Promise.all([segmentCounts(db, s), syncHistory(db, s.id, 1)])
      const sync = last[0]
      return [s.name, `${s.source.type} ${s.source.name ?? s.source.id}`, counts.members, counts.reachable, counts.optedOut, counts.invalidPhone,
        sync ? `${sync.status} ${sync.finishedAt ?? sync.startedAt}${sync.error ? ` — ${sync.error.message}` : ''}` : 'never', s.schedule ?? '']
    }))
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>WhatsApp Lists — admin</title><style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1f2933}h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e4e7eb}th{background:#f5f7fa}.empty{color:#7b8794}</style></head><body>
<h1>WhatsApp Lists connector</h1><p>API documentation: <a href="/docs">/docs</a> · metrics: <a href="/metrics">/metrics</a></p>
<h2>CRM installations</h2>${table(['CRM', 'Account', 'Status', 'Missing permissions', 'Installed', 'Last error'],
      installations.map((i) => [i.crm, `${i.accountId}${i.accountName ? ` (${i.accountName})` : ''}`, i.status, i.missingScopes.join(', '), i.installedAt.toISOString(), i.lastError ?? '']),
      'No CRM installed yet: open /oauth/hubspot/install or /oauth/salesforce/install.')}
<h2>WhatsApp numbers</h2>${table(['Number', 'Name', 'Phone number id', 'Account', 'Quality', 'Messages/s'],
      numbers.map((n) => [n.displayPhoneNumber, n.verifiedName ?? '', n.phoneNumberId, n.wabaId, n.qualityRating ?? '', n.messagesPerSecond]),
      'No number connected: POST /api/v1/whatsapp-numbers.')}
<h2>Segments</h2>${table(['Segment', 'Source', 'Members', 'Reachable', 'Opted out', 'Invalid phones', 'Last sync', 'Schedule'], segmentRows, 'No segments yet: POST /api/v1/segments.')}
<h2>Webhook inbox</h2>${table(['State', 'Rows'], inbox.map((r) => [r.state, r.n]), 'Empty.')}
</body></html>`
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html)
  })
}
