import type { FastifyReply } from 'fastify'

// Small server-rendered pages for the end of an install: people see them in their browser.

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export function page(reply: FastifyReply, status: number, title: string, lines: string[]) {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.4rem}.ok{color:#0b7a3e}.err{color:#b42318}</style></head><body>
<h1 class="${status < 400 ? 'ok' : 'err'}">${escape(title)}</h1>${lines.map((l) => `<p>${escape(l)}</p>`).join('')}</body></html>`
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body)
}
