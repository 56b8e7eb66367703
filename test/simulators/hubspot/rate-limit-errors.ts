// The 429 bodies HubSpot sends; @hubspot/api-client's retry logic keys on policyName and the
// "secondly" message, so both must match exactly.
import { randomUUID } from 'node:crypto'

export function tenSecondlyBody(appId: number, portalId: number): Record<string, unknown> {
  return {
    status: 'error',
    message: 'You have reached your ten_secondly_rolling limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: 'TEN_SECONDLY_ROLLING',
    groupName: `publicapi:oauth:${appId}:${portalId}`,
  }
}

export function secondlyBody(portalId: number): Record<string, unknown> {
  return {
    status: 'error',
    message: 'You have reached your secondly limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: 'SECONDLY',
    groupName: `crm-search:${portalId}`,
  }
}
