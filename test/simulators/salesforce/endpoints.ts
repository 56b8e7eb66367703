// Stable endpoint names: stats are counted and faults are targeted by these.

export const ENDPOINTS = [
  'oauth.authorize', 'oauth.token', 'oauth.revoke', 'oauth.userinfo', 'identity',
  'versions', 'resources', 'limits',
  'query', 'queryMore',
  'sobjects.global', 'sobject.info', 'sobject.describe', 'sobject.updated', 'sobject.deleted',
  'sobject.get', 'sobject.create', 'sobject.update', 'sobject.delete', 'sobject.getByExternalId', 'sobject.upsert',
  'listviews.list', 'listview.get', 'listview.describe', 'listview.results',
  'reports.list', 'report.run', 'report.describe',
  'collections.create', 'collections.update', 'collections.upsert', 'collections.delete', 'collections.retrieve',
] as const

export type EndpointName = (typeof ENDPOINTS)[number]

export function isEndpointName(value: unknown): value is EndpointName {
  return typeof value === 'string' && (ENDPOINTS as readonly string[]).includes(value)
}
