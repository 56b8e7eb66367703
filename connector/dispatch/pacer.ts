// Paces sends per WhatsApp number at its messages-per-second (reference whatsapp.md §3: 80 mps
// default, 130429 when exceeded). Each number gets evenly spaced slots; callers wait for theirs.

export class Pacer {
  readonly #next = new Map<string, number>()

  /** Resolves when the caller may send one message from `key` at `perSecond`. */
  async take(key: string, perSecond: number): Promise<void> {
    const now = Date.now()
    const slot = Math.max(now, this.#next.get(key) ?? 0)
    this.#next.set(key, slot + 1000 / perSecond)
    if (slot > now) await new Promise((r) => setTimeout(r, slot - now))
  }

  /** Pushes the number's next slot out after Graph said it is over its throughput. */
  backOff(key: string, ms: number): void {
    this.#next.set(key, Math.max(this.#next.get(key) ?? 0, Date.now() + ms))
  }
}
