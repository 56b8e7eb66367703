// The simulator's notion of "now": real time plus an offset that tests (and /_sim/clock) can move,
// so token expiry, Get Updated windows and the rolling 24h API allowance can be exercised quickly.

export interface SimClock {
  now(): number
  advance(ms: number): void
  set(at: number | Date): void
}

export function createClock(start?: number | Date): SimClock {
  let offset = start === undefined ? 0 : new Date(start).getTime() - Date.now()
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms
    },
    set: (at) => {
      offset = new Date(at).getTime() - Date.now()
    },
  }
}
