/** Follows redirects like a browser, recording each hop; returns the final response and its body. */
export async function follow(url: string, maxHops = 10): Promise<{ status: number; body: string; hops: string[]; url: string }> {
  const hops: string[] = [url]
  let current = url
  for (let i = 0; i < maxHops; i++) {
    const res = await fetch(current, { redirect: 'manual' })
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer()
      current = new URL(location, current).toString()
      hops.push(current)
      continue
    }
    return { status: res.status, body: await res.text(), hops, url: current }
  }
  throw new Error(`more than ${maxHops} redirects from ${url}`)
}
