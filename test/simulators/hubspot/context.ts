// What every route module receives.
import type { Controls } from './controls.ts'
import type { RollingWindowLimiter } from './rate-limiter.ts'
import type { SimState } from './state.ts'
import type { WebhookDispatcher } from './webhook-dispatcher.ts'

export interface RateLimits {
  burst: RollingWindowLimiter | null
  search: RollingWindowLimiter | null
}

export interface SimContext {
  state: SimState
  controls: Controls
  limits: RateLimits
  webhooks: WebhookDispatcher
}
