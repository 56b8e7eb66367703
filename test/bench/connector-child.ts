import { buildApp } from '../../connector/app.ts'
import { testConfig } from '../helpers/test-config.ts'

// The connector alone in a child process for the benchmarks, so that its resident memory is
// measured without the simulators'. Started with fork(): configuration comes as JSON in
// BENCH_CONNECTOR_ENV (variables as in .env); it says { type: 'ready' } once listening, answers
// { type: 'memory' } with process.memoryUsage() (after a full collection when started with
// --expose-gc), closes on { type: 'close' }, and exits when the
// bench process goes away.

interface Message { type: 'memory' | 'close' }

const env = JSON.parse(process.env.BENCH_CONNECTOR_ENV ?? '{}') as Record<string, string>
const send = (message: unknown) => process.send?.(message)
const app = await buildApp(testConfig(env))
await app.listen({ port: Number(env.PORT ?? 0), host: '127.0.0.1' })

let closing = false
async function close(code: number): Promise<never> {
  if (!closing) {
    closing = true
    await app.close().catch(() => {})
  }
  process.exit(code)
}

process.on('message', (message: Message) => {
  if (message.type === 'memory') {
    ;(globalThis as { gc?: () => void }).gc?.()
    send({ type: 'memory', ...process.memoryUsage() })
  }
  else if (message.type === 'close') void close(0)
})
process.on('disconnect', () => void close(0))
process.on('SIGTERM', () => void close(0))
send({ type: 'ready' })
