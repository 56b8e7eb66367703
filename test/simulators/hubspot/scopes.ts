// Scope names this simulator knows, and which of them each API family accepts (any-of).

const SCOPE = {
  oauth: 'oauth',
  contactsRead: 'crm.objects.contacts.read',
  contactsWrite: 'crm.objects.contacts.write',
  listsRead: 'crm.lists.read',
  listsWrite: 'crm.lists.write',
  schemasRead: 'crm.schemas.contacts.read',
  schemasWrite: 'crm.schemas.contacts.write',
  timeline: 'timeline',
  automation: 'automation',
} as const

/** Default for portals created without an explicit scope list: the user can grant everything. */
export const ALL_SCOPES: readonly string[] = Object.values(SCOPE)

export const REQUIRES = {
  contactsRead: [SCOPE.contactsRead],
  contactsWrite: [SCOPE.contactsWrite],
  listsRead: [SCOPE.listsRead],
  propertiesRead: [SCOPE.schemasRead, SCOPE.schemasWrite, SCOPE.contactsRead],
  propertiesWrite: [SCOPE.schemasWrite],
  timeline: [SCOPE.timeline],
  automation: [SCOPE.automation],
} as const satisfies Record<string, readonly string[]>

export function parseScopeParam(value: string | undefined): string[] {
  return (value ?? '').split(/[\s+]+/).filter((s) => s.length > 0)
}
