// Time as the HubSpot adapter sees it. Injected so tests can run rate limits and backoff in
// virtual time instead of sleeping.
import { setTimeout as delay } from 'node:timers/promises'

export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
}
