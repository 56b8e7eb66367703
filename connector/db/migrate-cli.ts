import { loadConfig, loadDotEnv } from '../config.ts'
import { openDatabase } from './database.ts'
import { migrate } from './migrate.ts'

// `npm run migrate`: applies pending migrations to the configured database and exits.

loadDotEnv()
const config = loadConfig()
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 })
try {
  const result = await migrate(db)
  console.log(result.applied.length ? `applied: ${result.applied.join(', ')}` : `up to date (${result.alreadyApplied} migrations)`)
} catch (error) {
  console.error((error as Error).message)
  process.exitCode = 1
} finally {
  await db.close()
}
