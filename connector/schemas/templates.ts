import { Type } from '@sinclair/typebox'

export const TemplateView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  language: Type.String(),
  status: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  parameterFormat: Type.Union([Type.String(), Type.Null()]),
  bodyParameters: Type.Integer({ description: 'Placeholders in the body, each to be filled when sending' }),
  components: Type.Array(Type.Unknown()),
  syncedAt: Type.String(),
  updatedAt: Type.String(),
})

export const TemplateList = Type.Array(TemplateView)

/** The connected number whose WhatsApp Business Account's templates are meant (query or body). */
export const TemplatesOfNumber = Type.Object({ numberId: Type.String({ format: 'uuid' }) })
