import type { SimClock } from './clock.ts'
import type { CursorStore } from './cursors.ts'
import type { Faults } from './faults.ts'
import type { Org } from './state.ts'
import type { SimStats } from './stats.ts'
import type { AuthState } from './tokens.ts'

// Everything the route modules share. One simulator = one context.

export interface SimOptions {
  accessTokenTtlMs: number
  rotateRefreshTokens: boolean
}

export interface SimContext {
  clock: SimClock
  orgs: Map<string, Org>
  auth: AuthState
  faults: Faults
  stats: SimStats
  cursors: CursorStore
  options: SimOptions
  /** Login host and instance URL (one server plays both). */
  baseUrl(): string
}
