import type { Rng } from './prng.ts'

// Realistic person data per country, with phone numbers written the many ways CRM users type
// them: E.164, international with spaces, national with trunk prefix and punctuation, `00`
// prefix, landlines in the mobile field, legacy mobile formats (Brazil without the ninth digit,
// Mexico's `+52 1`, Argentina's `15` and missing `9`), invalid text, and empty.

export type Country = 'US' | 'GB' | 'DE' | 'BR' | 'MX' | 'AR' | 'IN'

export interface CountryData {
  code: Country
  name: string
  weight: number
  firstNames: readonly string[]
  lastNames: readonly string[]
  /** A valid mobile number written in one of the country's common styles. */
  mobile(rng: Rng): string
  landline(rng: Rng): string
  /** A legacy or ambiguous way of writing a mobile number (libphonenumber may reject it). */
  quirk(rng: Rng): string
}

/** Writes cc + national significant number in a random style; `national` is the local way. */
function styled(rng: Rng, cc: string, groups: string[], national: () => string): string {
  const nsn = groups.join('')
  switch (rng.int(6)) {
    case 0:
    case 1: return `+${cc}${nsn}`
    case 2: return `+${cc} ${groups.join(' ')}`
    case 3: return `00${cc} ${groups.join(' ')}`
    default: return national()
  }
}

const digitsFrom = (rng: Rng, first: string, rest: number) => rng.pick(first.split('')) + rng.digits(rest)

export const COUNTRIES: readonly CountryData[] = [
  {
    code: 'US', name: 'United States', weight: 30,
    firstNames: ['James', 'Mary', 'Robert', 'Patricia', 'Michael', 'Jennifer', 'William', 'Linda', 'David', 'Elizabeth', 'Joseph', 'Susan', 'Charles', 'Jessica', 'Thomas', 'Sarah', 'Christopher', 'Karen', 'Daniel', 'Ashley', 'Matthew', 'Emily', 'Anthony', 'Megan', 'Kevin', "D'Andre", 'Mary-Kate'],
    lastNames: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark', "O'Brien", 'Nguyen', 'Kim', 'Patel'],
    mobile(rng) {
      const area = rng.pick(['201', '212', '305', '312', '415', '512', '617', '646', '702', '713', '808', '917', '206', '404'])
      const exchange = digitsFrom(rng, '23456789', 2)
      const line = rng.digits(4)
      return styled(rng, '1', [area, exchange, line], () =>
        rng.pick([`(${area}) ${exchange}-${line}`, `${area}-${exchange}-${line}`, `${area}.${exchange}.${line}`, `1-${area}-${exchange}-${line}`]))
    },
    landline(rng) {
      return this.mobile(rng)
    },
    quirk(rng) {
      const n = `${rng.pick(['415', '212'])}${digitsFrom(rng, '2345', 2)}${rng.digits(4)}`
      return rng.pick([`${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)} ext. ${rng.digits(3)}`, `+1 (${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`])
    },
  },
  {
    code: 'GB', name: 'United Kingdom', weight: 12,
    firstNames: ['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Jack', 'Mia', 'Charlie', 'Grace', 'Freddie', 'Sophie', 'Alfie', 'Poppy', 'Siobhan', 'Rhys'],
    lastNames: ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Evans', 'Davies', 'Hughes', 'Roberts', 'Walker', 'Wright', 'Thompson', 'Khan', 'Ahmed', 'McDonald'],
    mobile(rng) {
      const a = `7${rng.pick(['4', '5', '7', '8', '9'])}${rng.digits(2)}`
      const b = rng.digits(6)
      return styled(rng, '44', [a, b], () => rng.pick([`0${a} ${b}`, `0${a}${b}`, `(0${a}) ${b.slice(0, 3)} ${b.slice(3)}`]))
    },
    landline(rng) {
      const b = `${rng.pick(['7', '8'])}${rng.digits(3)}`
      const c = rng.digits(4)
      return rng.pick([`+44 20 ${b} ${c}`, `020 ${b} ${c}`, `(020) ${b}${c}`])
    },
    quirk(rng) {
      return `+44 (0)7${rng.pick(['4', '7', '9'])}${rng.digits(2)} ${rng.digits(6)}`
    },
  },
  {
    code: 'DE', name: 'Germany', weight: 12,
    firstNames: ['Lukas', 'Anna', 'Leon', 'Lena', 'Finn', 'Hannah', 'Jonas', 'Lea', 'Paul', 'Marie', 'Felix', 'Sophie', 'Jürgen', 'Jörg', 'Bärbel', 'Björn'],
    lastNames: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann'],
    mobile(rng) {
      const prefix = rng.pick(['151', '152', '157', '159', '170', '171', '172', '175', '176', '177', '178', '179'])
      const rest = rng.digits(8)
      return styled(rng, '49', [prefix, rest], () => rng.pick([`0${prefix} ${rest}`, `0${prefix}/${rest}`, `0${prefix}-${rest.slice(0, 4)} ${rest.slice(4)}`]))
    },
    landline(rng) {
      const rest = rng.digits(8)
      return rng.pick([`+49 30 ${rest}`, `030 ${rest}`, `(030) ${rest.slice(0, 4)}-${rest.slice(4)}`])
    },
    quirk(rng) {
      return `+49 (0)${rng.pick(['151', '171', '176'])} ${rng.digits(8)}`
    },
  },
  {
    code: 'BR', name: 'Brazil', weight: 14,
    firstNames: ['João', 'Maria', 'José', 'Ana', 'Gabriel', 'Júlia', 'Lucas', 'Beatriz', 'Matheus', 'Larissa', 'Pedro', 'Fernanda', 'Luís', 'Letícia', 'Conceição'],
    lastNames: ['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima', 'Gomes', 'Ribeiro', 'Carvalho', 'Araújo', 'Conceição', 'Gonçalves'],
    mobile(rng) {
      const ddd = rng.pick(['11', '21', '31', '41', '51', '61', '71', '81', '85'])
      const a = `9${digitsFrom(rng, '6789', 3)}`
      const b = rng.digits(4)
      return styled(rng, '55', [ddd, a, b], () => rng.pick([`(${ddd}) ${a}-${b}`, `${ddd} ${a}-${b}`, `0${ddd} ${a}${b}`, `${ddd}${a}${b}`]))
    },
    landline(rng) {
      const ddd = rng.pick(['11', '21', '31'])
      const a = digitsFrom(rng, '2345', 3)
      const b = rng.digits(4)
      return rng.pick([`+55 ${ddd} ${a}-${b}`, `(${ddd}) ${a}-${b}`])
    },
    quirk(rng) {
      // Pre-2016 mobile without the ninth digit.
      const ddd = rng.pick(['11', '21', '31'])
      const a = digitsFrom(rng, '6789', 3)
      const b = rng.digits(4)
      return rng.pick([`+55 ${ddd} ${a}-${b}`, `(${ddd}) ${a}-${b}`, `+55${ddd}${a}${b}`])
    },
  },
  {
    code: 'MX', name: 'Mexico', weight: 10,
    firstNames: ['José', 'Guadalupe', 'Juan', 'María', 'Luis', 'Fernanda', 'Carlos', 'Valeria', 'Jorge', 'Ximena', 'Alejandro', 'Sofía', 'Ángel'],
    lastNames: ['Hernández', 'García', 'Martínez', 'López', 'González', 'Pérez', 'Rodríguez', 'Sánchez', 'Ramírez', 'Cruz', 'Flores', 'Gómez', 'Núñez'],
    mobile(rng) {
      const area = rng.pick(['55', '33', '81'])
      const a = rng.digits(4)
      const b = rng.digits(4)
      return styled(rng, '52', [area, a, b], () => rng.pick([`${area} ${a} ${b}`, `(${area}) ${a}-${b}`, `${area}${a}${b}`]))
    },
    landline(rng) {
      return `+52 ${rng.pick(['55', '33'])} ${rng.digits(4)} ${rng.digits(4)}`
    },
    quirk(rng) {
      // Legacy mobile formats: the `1` after +52, and the local `044` prefix.
      const n = `${rng.pick(['55', '33', '81'])} ${rng.digits(4)} ${rng.digits(4)}`
      return rng.pick([`+52 1 ${n}`, `+521${n.replace(/ /g, '')}`, `044 ${n}`])
    },
  },
  {
    code: 'AR', name: 'Argentina', weight: 8,
    firstNames: ['Santiago', 'Sofía', 'Mateo', 'Valentina', 'Benjamín', 'Martina', 'Joaquín', 'Catalina', 'Tomás', 'Camila', 'Agustín', 'Lucía'],
    lastNames: ['González', 'Rodríguez', 'Gómez', 'Fernández', 'López', 'Díaz', 'Martínez', 'Pérez', 'Romero', 'Sosa', 'Álvarez', 'Ruiz'],
    mobile(rng) {
      const a = digitsFrom(rng, '23456', 3)
      const b = rng.digits(4)
      return styled(rng, '54', ['9', '11', a, b], () => rng.pick([`011 15-${a}-${b}`, `(011) 15 ${a} ${b}`, `11 15 ${a}-${b}`]))
    },
    landline(rng) {
      return rng.pick([`+54 11 4${rng.digits(3)}-${rng.digits(4)}`, `011 4${rng.digits(3)}-${rng.digits(4)}`])
    },
    quirk(rng) {
      // Mobile written without the 9 (reads as a landline) or with both 9 and 15.
      const n = `${digitsFrom(rng, '23456', 3)}-${rng.digits(4)}`
      return rng.pick([`+54 11 ${n}`, `+54 9 11 15 ${n}`])
    },
  },
  {
    code: 'IN', name: 'India', weight: 14,
    firstNames: ['Aarav', 'Priya', 'Vihaan', 'Ananya', 'Arjun', 'Diya', 'Sai', 'Aadhya', 'Rohan', 'Kavya', 'Rahul', 'Sneha', 'Vikram', 'Lakshmi'],
    lastNames: ['Sharma', 'Verma', 'Patel', 'Gupta', 'Singh', 'Kumar', 'Reddy', 'Iyer', 'Nair', 'Das', 'Mehta', 'Joshi', 'Rao', 'Chatterjee'],
    mobile(rng) {
      const a = digitsFrom(rng, '6789', 4)
      const b = rng.digits(5)
      return styled(rng, '91', [a, b], () => rng.pick([`0${a} ${b}`, `${a}-${b}`, `${a}${b}`, `0${a}${b}`]))
    },
    landline(rng) {
      return rng.pick([`+91 11 ${digitsFrom(rng, '23456', 3)} ${rng.digits(4)}`, `011-${digitsFrom(rng, '23456', 7)}`])
    },
    quirk(rng) {
      return `+91-${digitsFrom(rng, '6789', 4)}-${rng.digits(5)}`
    },
  },
]

const INVALID_PHONES = ['12345', '555-CALL-NOW', '+1 000 000 0000', '0000000000', 'n/a', '+44 7700', 'call office', '++49 151', '1']

const TOTAL_WEIGHT = COUNTRIES.reduce((sum, c) => sum + c.weight, 0)

export function pickCountry(rng: Rng): CountryData {
  let n = rng.int(TOTAL_WEIGHT)
  for (const c of COUNTRIES) {
    n -= c.weight
    if (n < 0) return c
  }
  return COUNTRIES[0] as CountryData
}

/** MobilePhone: mostly mobiles, plus the messes a real CRM holds. */
export function mobileFor(rng: Rng, country: CountryData): string | null {
  const roll = rng.next()
  if (roll < 0.7) return country.mobile(rng)
  if (roll < 0.8) return null
  if (roll < 0.87) return country.landline(rng)
  if (roll < 0.92) return rng.pick(INVALID_PHONES)
  return country.quirk(rng)
}

/** Phone (business phone): mostly landlines or empty, sometimes a mobile. */
export function phoneFor(rng: Rng, country: CountryData, mobile: string | null): string | null {
  const roll = rng.next()
  if (roll < 0.45) return country.landline(rng)
  if (roll < 0.75) return null
  if (roll < 0.85 && mobile) return mobile
  if (roll < 0.95) return country.mobile(rng)
  return rng.pick(INVALID_PHONES)
}

const ascii = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9-]/g, '').toLowerCase()
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'corp.example']

export function emailFor(rng: Rng, first: string, last: string, n: number): string | null {
  if (rng.chance(0.08)) return null
  const local = rng.pick([`${ascii(first)}.${ascii(last)}${n}`, `${ascii(first).charAt(0)}${ascii(last)}${n}`, `${ascii(last)}.${ascii(first)}${n}`])
  const email = `${local}@${rng.pick(DOMAINS)}`
  return rng.chance(0.03) ? email.toUpperCase() : email
}

export const COMPANIES = ['Acme Corp', 'Globex', 'Initech', 'Umbrella Ltd', 'Stark Industries', 'Wayne Enterprises', 'Hooli', 'Vandelay Industries', 'Soylent GmbH', 'Tyrell S.A.', 'Cyberdyne', 'Pied Piper', 'Massive Dynamic', 'Oceanic Ltda', 'Wonka Foods']
export const TITLES = ['CEO', 'Head of Sales', 'Marketing Manager', 'Buyer', 'Office Manager', 'CTO', 'Account Executive', null, null]
