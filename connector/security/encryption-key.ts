import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'

/**
 * The configured key, or outside production a development key generated once into DATA_DIR
 * (so tokens stay readable across restarts of a local install).
 */
export function resolveEncryptionKey(configured: string | undefined, dataDir: string, log: Logger): string {
  if (configured) return configured
  const file = join(dataDir, 'dev-encryption-key')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const key = randomBytes(32).toString('base64')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  log.warn({ file }, 'ENCRYPTION_KEY is not set: generated a development key; set ENCRYPTION_KEY in production')
  return key
}
