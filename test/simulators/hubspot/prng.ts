// Seeded PRNG so `seed()`/`mutate()` produce the same data for the same seed on every run.

export interface Random {
  /** Uniform float in [0, 1). */
  next(): number
  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number
  pick<T>(items: readonly T[]): T
  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K
  digits(count: number): string
}

/** mulberry32: tiny, fast and good enough for test data. */
export function createRandom(seed: number): Random {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)]
      if (item === undefined) throw new Error('pick() from an empty list')
      return item
    },
    weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
      const entries = Object.entries(weights) as [K, number][]
      const total = entries.reduce((sum, [, w]) => sum + Math.max(0, w), 0)
      let roll = next() * total
      for (const [key, w] of entries) {
        roll -= Math.max(0, w)
        if (roll < 0) return key
      }
      const last = entries.at(-1)
      if (!last) throw new Error('weighted() needs at least one entry')
      return last[0]
    },
    digits(count: number): string {
      let out = ''
      for (let i = 0; i < count; i++) out += String(int(0, 9))
      return out
    },
  }
}
