import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/free-port.ts'

// The connector in a child process for benchmarks, with its resident memory read from /proc.

export interface Connector {
  base: string
  pid: number
  /** Resident set size now (bytes). */
  rss(): Promise<number>
  /** Heap and buffers still held after a full garbage collection (bytes): what is retained. */
  retained(): Promise<number>
  /** Resets the kernel's peak-RSS mark (VmHWM); false when that is not possible here. */
  resetPeak(): boolean
  /** Peak RSS since the last reset (bytes), when the kernel keeps it. */
  peak(): number | undefined
  close(): Promise<void>
}

function procStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
    const rss = kb('VmRSS')
    return Number.isFinite(rss) ? { rss, hwm: kb('VmHWM') } : undefined
  } catch {
    return undefined
  }
}

/** The connector alone in a child process (connector-child.ts), so its memory is its own. */
export async function startConnectorProcess(env: Record<string, string>): Promise<Connector> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-connector-'))
  const child: ChildProcess = fork(fileURLToPath(new URL('./connector-child.ts', import.meta.url)), [], {
    env: { ...process.env, BENCH_CONNECTOR_ENV: JSON.stringify({ PORT: String(port), PUBLIC_URL: base, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [...process.execArgv, '--expose-gc'],
  })
  // The connector's own log (warnings and errors) goes to stderr, the figures to stdout.
  child.stdout!.pipe(process.stderr)
  child.stderr!.pipe(process.stderr)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    if (child.exitCode === null && child.signalCode === null) {
      child.send({ type: 'close' })
      const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timeout)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  const memoryWaiters: Array<(usage: NodeJS.MemoryUsage) => void> = []
  child.on('message', (message: { type: string; rss?: number }) => {
    if (message.type === 'memory') memoryWaiters.shift()?.(message as unknown as NodeJS.MemoryUsage)
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    void exited.then(() => reject(new Error(`the connector exited during start-up (code ${child.exitCode})`)))
  })
  const pid = child.pid!
  const usage = () => new Promise<NodeJS.MemoryUsage>((resolve) => {
    memoryWaiters.push(resolve)
    child.send({ type: 'memory' })
  })
  return {
    base,
    pid,
    // /proc where there is one; otherwise the child reports its own (its event loop may delay that).
    rss: async () => procStatus(pid)?.rss ?? (await usage()).rss,
    retained: async () => {
      const u = await usage()
      return u.heapUsed + u.external
    },
    resetPeak() {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5')
        return true
      } catch {
        return false
      }
    },
    peak: () => procStatus(pid)?.hwm,
    close,
  }
}
