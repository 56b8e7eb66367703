import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one PostgreSQL database when DATABASE_URL is set; files run one at a time there.
    fileParallelism: !process.env.DATABASE_URL,
    pool: 'forks',
  },
})
