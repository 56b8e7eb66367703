import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError } from '../../errors.ts'
import { erasePerson, exportPerson, PersonHashKeyMissingError } from '../../people/person-data.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { PersonErasure, PersonExport, PersonQuery } from '../../schemas/people.ts'
import type { RouteOptions } from '../../services.ts'
import { personParam } from './person-param.ts'

export const peopleRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/people', {
    schema: {
      tags: ['people'],
      summary: 'Everything the connector holds about one person (by phone or WhatsApp user id), as JSON',
      querystring: PersonQuery,
      response: { 200: PersonExport, ...ErrorResponses },
    },
  }, async (request) => exportPerson(services.db, personParam(request.query)))

  app.delete('/people', {
    schema: {
      tags: ['people'],
      summary: 'Erase one person: names, copied properties, message bodies, identities; the consent log keeps a salted hash',
      querystring: PersonQuery,
      response: { 200: PersonErasure, ...ErrorResponses },
    },
  }, async (request) => {
    const who = personParam(request.query)
    try {
      return { erased: await services.db.transaction((tx) => erasePerson(tx, who)) }
    } catch (error) {
      if (error instanceof PersonHashKeyMissingError) throw new AppError(503, error.code, error.message)
      throw error
    }
  })
}
