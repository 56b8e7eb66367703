import type { Queryable } from '../db/database.ts'
import type { MessageTemplate } from '../whatsapp/graph-client.ts'

// Templates as Graph last listed them, per WhatsApp Business Account. Only APPROVED ones can be
// sent (reference whatsapp.md §6.1); status webhooks keep the status current between syncs.

export interface StoredTemplate {
  id: string
  name: string
  language: string
  status: string
  category: string | null
  parameterFormat: string | null
  bodyParameters: number
  components: unknown[]
  syncedAt: string
  updatedAt: string
}

/** Placeholders in the BODY text: {{1}}…{{n}}, or named ones. */
export function bodyParameterCount(components: unknown[]): number {
  const body = components.find((c) => (c as { type?: string }).type?.toUpperCase() === 'BODY') as { text?: string } | undefined
  return new Set(body?.text?.match(/\{\{\s*[\w.]+\s*\}\}/g) ?? []).size
}

/** Replaces the account's templates with Graph's list; templates Graph no longer lists are removed. */
export async function replaceTemplates(db: Queryable, wabaId: string, templates: MessageTemplate[]): Promise<void> {
  await db.query(
    `INSERT INTO message_templates (waba_id, template_id, name, language, status, category, parameter_format, components)
     SELECT $1, i, n, l, s, c, f, co::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS x(i, n, l, s, c, f, co)
     ON CONFLICT (waba_id, template_id) DO UPDATE SET name = EXCLUDED.name, language = EXCLUDED.language, status = EXCLUDED.status,
       category = EXCLUDED.category, parameter_format = EXCLUDED.parameter_format, components = EXCLUDED.components, synced_at = now(), updated_at = now()`,
    [
      wabaId, templates.map((t) => t.id), templates.map((t) => t.name), templates.map((t) => t.language), templates.map((t) => t.status),
      templates.map((t) => t.category ?? null), templates.map((t) => t.parameter_format ?? null), templates.map((t) => JSON.stringify(t.components ?? [])),
    ],
  )
  await db.query('DELETE FROM message_templates WHERE waba_id = $1 AND NOT (template_id = ANY($2::text[]))', [wabaId, templates.map((t) => t.id)])
}

export async function listTemplates(db: Queryable, wabaId: string): Promise<StoredTemplate[]> {
  const { rows } = await db.query<{ template_id: string; name: string; language: string; status: string; category: string | null; parameter_format: string | null; components: unknown[]; synced_at: Date; updated_at: Date }>(
    `SELECT template_id, name, language, status, category, parameter_format, components, synced_at, updated_at
     FROM message_templates WHERE waba_id = $1 ORDER BY name, language`,
    [wabaId],
  )
  return rows.map((r) => ({
    id: r.template_id, name: r.name, language: r.language, status: r.status, category: r.category, parameterFormat: r.parameter_format,
    bodyParameters: bodyParameterCount(r.components), components: r.components, syncedAt: r.synced_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  }))
}

/** A message_template_status_update webhook: the template's new status (APPROVED, PAUSED, …). */
export async function updateTemplateStatus(db: Queryable, wabaId: string, templateId: string, status: string): Promise<void> {
  await db.query('UPDATE message_templates SET status = $3, updated_at = now() WHERE waba_id = $1 AND template_id = $2', [wabaId, templateId, status])
}

/**
 * A scalar SQL expression: the category Graph gave the template `name` in `language` of the
 * account `wabaId` (SQL expressions), NULL when the connector has never synced it.
 */
export function templateCategorySql(wabaId: string, name: string, language: string): string {
  return `(SELECT t.category FROM message_templates t WHERE t.waba_id = ${wabaId} AND t.name = ${name} AND t.language = ${language}
    ORDER BY t.updated_at DESC LIMIT 1)`
}

/** The synced template's category (MARKETING, UTILITY, AUTHENTICATION); undefined when never synced. */
export async function templateCategory(db: Queryable, wabaId: string, name: string, language: string): Promise<string | undefined> {
  const { rows } = await db.query<{ category: string | null }>(`SELECT ${templateCategorySql('$1', '$2', '$3')} AS category`, [wabaId, name, language])
  return rows[0]?.category ?? undefined
}
