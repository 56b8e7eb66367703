import { Type } from '@sinclair/typebox'
import { e164Phone, whatsappUserId } from './common.ts'

/** Exactly one of phone and userId (checked by routes/api/person-param.ts). */
export const PersonQuery = Type.Object({
  phone: Type.Optional(e164Phone()),
  userId: Type.Optional(whatsappUserId()),
})

const Rows = (description: string) => Type.Array(Type.Unknown(), { description })

/** Everything the connector holds about one person, by table; empty sections for a person never seen. */
export const PersonExport = Type.Object({
  phone: Type.Optional(Type.String({ description: 'E.164, when known' })),
  userId: Type.Optional(Type.String({ description: 'WhatsApp business-scoped user id, when known' })),
  whatsappUsers: Rows('WhatsApp identities: business portfolio, user id, phone, username'),
  contacts: Rows('The WhatsApp recipient per installation, with the properties copied from the CRM'),
  crmRecords: Rows('The CRM records read for this person, with their properties and last consent value'),
  segmentMemberships: Rows('The segments those records are members of'),
  consentEvents: Rows('The consent log about this person, with phone and match key as stored (erased: a salted hash)'),
  messages: Rows('Messages sent to the person, with content and status history'),
  inboundMessages: Rows('Messages the person sent, with profile name and body'),
  writebacks: Rows('Writes of the person\'s consent to their CRM records'),
})

const count = (description: string) => Type.Integer({ minimum: 0, description })

/** What an erasure changed, by kind. */
export const PersonErasure = Type.Object({
  erased: Type.Object({
    consentEvents: count('Consent events whose phone and match key were replaced by their salted hash (the events stay)'),
    whatsappUsers: count('WhatsApp identities erased (user id hashed; phone and username dropped)'),
    contacts: count('Recipients deleted, with the properties copied from the CRM'),
    crmRecords: count('CRM records deleted'),
    segmentMemberships: count('Segment memberships removed'),
    messages: count('Messages sent to the person, recipient hashed and content emptied'),
    inboundMessages: count('Messages from the person deleted'),
    inboxBodies: count('Handled webhook bodies naming the person deleted'),
    writebacks: count('CRM write-backs about the person deleted'),
  }),
})
