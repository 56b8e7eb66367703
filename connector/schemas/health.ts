import { Type } from '@sinclair/typebox'

/** Liveness and readiness: a 503 from /readyz has this shape too, not the error shape. */
export const HealthStatus = Type.Object({ status: Type.String(), database: Type.Optional(Type.String()), migrations: Type.Optional(Type.String()) })
