import { loadConfig, type Config } from '../../connector/config.ts'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789'
export const TEST_APP_SECRET = 'test-whatsapp-app-secret'
export const TEST_VERIFY_TOKEN = 'test-verify-token'
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')

/** A valid configuration for tests; `env` overrides or adds variables. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'connector-test-')),
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    WHATSAPP_APP_SECRET: TEST_APP_SECRET,
    WHATSAPP_VERIFY_TOKEN: TEST_VERIFY_TOKEN,
    ...env,
  })
}

export const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }
