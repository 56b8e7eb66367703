import http from 'node:http'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

// An open-loop load generator: requests are fired on a fixed schedule whatever the server's
// speed, and latency is measured from each request's scheduled time, so a stalled server shows
// up in the percentiles instead of quietly lowering the offered load (coordinated omission).
// It runs in a worker thread so the server under test keeps its own event loop.

export interface LoadRequest {
  path: string
  body: string
  headers: Record<string, string>
}

export interface OpenLoopResult {
  sent: number
  ok: number
  failed: number
  achievedRate: number
  p50: number
  p99: number
  max: number
}

interface Job {
  url: string
  requests: LoadRequest[]
  rate: number
  seconds: number
}

export function runOpenLoop(job: Job): Promise<OpenLoopResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}

async function work(job: Job): Promise<OpenLoopResult> {
  const target = new URL(job.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  const total = Math.round(job.rate * job.seconds)
  const latencies = new Float64Array(total)
  let ok = 0
  let failed = 0
  let done = 0
  const start = performance.now()
  const interval = 1000 / job.rate
  let finishAll!: () => void
  const allDone = new Promise<void>((r) => (finishAll = r))

  const fire = (i: number) => {
    const scheduled = start + i * interval
    const req = job.requests[i % job.requests.length]!
    const r = http.request({ host: target.hostname, port: target.port, path: req.path, method: 'POST', agent, headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) } }, (res) => {
      res.resume()
      res.on('end', () => {
        latencies[i] = performance.now() - scheduled
        if (res.statusCode === 200) ok++
        else failed++
        if (++done === total) finishAll()
      })
    })
    r.on('error', () => {
      latencies[i] = performance.now() - scheduled
      failed++
      if (++done === total) finishAll()
    })
    r.end(req.body)
  }

  let next = 0
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1)
      while (next < due) fire(next++)
      if (next >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  await allDone
  const elapsed = (performance.now() - start) / 1000
  agent.destroy()
  const sorted = Array.from(latencies).sort((a, b) => a - b)
  const pct = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 10) / 10
  return { sent: total, ok, failed, achievedRate: ok / elapsed, p50: pct(0.5), p99: pct(0.99), max: Math.round(sorted[sorted.length - 1]!) }
}

if (!isMainThread && parentPort) {
  parentPort.postMessage(await work(workerData as Job))
}
