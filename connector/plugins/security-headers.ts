import helmet from '@fastify/helmet'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

// Security headers on every response. The CSP is strict: our pages (install results, the admin
// console) load only their own styles, scripts and images and cannot be framed; JSON answers are
// inert anyway. HSTS only where the connector is served over https, or browsers would pin http.

const securityHeaders: FastifyPluginAsync<{ https: boolean }> = async (app, { https }) => {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        // The small server-rendered pages carry one inline <style>.
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  })
}

export default fp(securityHeaders, { name: 'security-headers' })
