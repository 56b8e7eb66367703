// Realistic phone values as people type them into a CRM, per country, so the connector's
// normalisation is exercised against the messy mix it meets in real portals.
import type { Random } from './prng.ts'

const PHONE_COUNTRIES = ['US', 'GB', 'DE', 'BR', 'MX', 'AR', 'IN'] as const
export type PhoneCountry = (typeof PHONE_COUNTRIES)[number]

const PHONE_FORMATS = [
  'e164', // +4915112345678
  'international', // +49 151 12345678
  'national', // 0151 12345678 (needs the contact's country to parse)
  'idd00', // 0049 151 12345678
  'landline', // a valid fixed-line number (no WhatsApp), rendered like a national number
  'legacy_mobile', // BR without the ninth digit, MX with the old "1", AR national "15" form; national elsewhere
  'invalid', // junk that no parser should accept
  'missing', // no phone at all
] as const
export type PhoneFormat = (typeof PHONE_FORMATS)[number]

interface GeneratedPhone {
  /** What the CRM field holds; null when the format is `missing`. */
  value: string | null
  /** The E.164 number a correct normaliser should derive (mobile for legacy forms); null for invalid/missing. */
  e164: string | null
  mobile: boolean
}

interface CountrySpec {
  callingCode: string
  countryName: string
  mobile(r: Random): string
  landline(r: Random): string
  /** Groups a national significant number for display after "+cc " or "00cc ". */
  group(nsn: string): string
  national(nsn: string): string
  /** Legacy mobile rendering and the number it really is; null when the country has no legacy form. */
  legacy: ((r: Random) => { value: string; nsn: string }) | null
}

const chunks = (s: string, sizes: number[]): string[] => {
  const out: string[] = []
  let at = 0
  for (const size of sizes) {
    out.push(s.slice(at, at + size))
    at += size
  }
  if (at < s.length) out.push(s.slice(at))
  return out.filter((c) => c.length > 0)
}

const COUNTRIES: Record<PhoneCountry, CountrySpec> = {
  US: {
    callingCode: '1',
    countryName: 'United States',
    mobile: (r) => {
      let exchange = `${r.int(2, 9)}${r.digits(2)}`
      if (exchange.endsWith('11')) exchange = `${exchange[0]}20` // N11 codes are service numbers
      return r.pick(['212', '415', '312', '617', '305', '206', '512', '303']) + exchange + r.digits(4)
    },
    landline: (r) => r.pick(['212', '415', '312', '617']) + `${r.int(2, 9)}${r.int(2, 9)}${r.int(2, 9)}` + r.digits(4),
    group: (n) => chunks(n, [3, 3, 4]).join(' '),
    national: (n) => `(${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`,
    legacy: null,
  },
  GB: {
    callingCode: '44',
    countryName: 'United Kingdom',
    mobile: (r) => r.pick(['7912', '7701', '7723', '7810', '7400', '7564', '7956', '7480']) + r.digits(6),
    landline: (r) => `20${r.pick(['7', '3', '8'])}${r.digits(7)}`,
    group: (n) => (n.startsWith('7') ? chunks(n, [4, 6]) : chunks(n, [2, 4, 4])).join(' '),
    national: (n) => `0${(n.startsWith('7') ? chunks(n, [4, 6]) : chunks(n, [2, 4, 4])).join(' ')}`,
    legacy: null,
  },
  DE: {
    callingCode: '49',
    countryName: 'Germany',
    mobile: (r) => r.pick(['151', '152', '157', '160', '170', '171', '176', '177']) + r.digits(8),
    landline: (r) => (r.next() < 0.5 ? `30${r.int(2, 9)}${r.digits(7)}` : `89${r.int(2, 9)}${r.digits(6)}`),
    group: (n) => (n.startsWith('1') ? chunks(n, [3]) : chunks(n, [2])).join(' '),
    national: (n) => `0${(n.startsWith('1') ? chunks(n, [3]) : chunks(n, [2])).join(' ')}`,
    legacy: null,
  },
  BR: {
    callingCode: '55',
    countryName: 'Brazil',
    mobile: (r) => `${brAreaCode(r)}9${r.int(6, 9)}${r.digits(7)}`,
    landline: (r) => `${brAreaCode(r)}${r.int(2, 5)}${r.digits(7)}`,
    group: (n) => `${n.slice(0, 2)} ${n.slice(2, -4)}-${n.slice(-4)}`,
    national: (n) => `(${n.slice(0, 2)}) ${n.slice(2, -4)}-${n.slice(-4)}`,
    // Pre-2016 style: the mobile number is stored without the ninth digit.
    legacy: (r) => {
      const area = brAreaCode(r)
      const eight = `${r.int(6, 9)}${r.digits(7)}`
      const value = r.next() < 0.5 ? `(${area}) ${eight.slice(0, 4)}-${eight.slice(4)}` : `+55${area}${eight}`
      return { value, nsn: `${area}9${eight}` }
    },
  },
  MX: {
    callingCode: '52',
    countryName: 'Mexico',
    mobile: (r) => `${r.pick(['55', '33', '81'])}${r.int(1, 9)}${r.digits(7)}`,
    landline: (r) => `${r.pick(['55', '33', '81'])}${r.int(1, 9)}${r.digits(7)}`,
    group: (n) => chunks(n, [2, 4, 4]).join(' '),
    national: (n) => chunks(n, [2, 4, 4]).join(' '),
    // Before 2019 mobiles were dialled internationally as +52 1 ...; WhatsApp wa_ids still show it.
    legacy: (r) => {
      const nsn = `${r.pick(['55', '33', '81'])}${r.int(1, 9)}${r.digits(7)}`
      return { value: `+52 1 ${chunks(nsn, [2, 4, 4]).join(' ')}`, nsn }
    },
  },
  AR: {
    callingCode: '54',
    countryName: 'Argentina',
    mobile: (r) => `911${r.int(2, 6)}${r.digits(7)}`,
    landline: (r) => `11${r.int(4, 5)}${r.digits(7)}`,
    group: (n) => (n.startsWith('9') ? `9 ${n.slice(1, 3)} ${n.slice(3, 7)}-${n.slice(7)}` : `${n.slice(0, 2)} ${n.slice(2, 6)}-${n.slice(6)}`),
    national: (n) => (n.startsWith('9') ? `011 15-${n.slice(3, 7)}-${n.slice(7)}` : `011 ${n.slice(2, 6)}-${n.slice(6)}`),
    // Stored in international form but without the mobile "9": parses as a Buenos Aires landline.
    legacy: (r) => {
      const local = `${r.int(2, 6)}${r.digits(7)}`
      return { value: `+54 11 ${local.slice(0, 4)}-${local.slice(4)}`, nsn: `911${local}` }
    },
  },
  IN: {
    callingCode: '91',
    countryName: 'India',
    mobile: (r) => r.pick(['98', '99', '97', '94', '90', '70', '96', '93']) + r.digits(8),
    landline: (r) => `11${r.int(2, 4)}${r.digits(7)}`,
    group: (n) => (n.startsWith('11') ? chunks(n, [2, 4, 4]) : chunks(n, [5, 5])).join(' '),
    national: (n) => `0${(n.startsWith('11') ? chunks(n, [2, 4, 4]) : chunks(n, [5, 5])).join(' ')}`,
    legacy: null,
  },
}

function brAreaCode(r: Random): string {
  return r.pick(['11', '21', '31', '41', '51', '61', '71', '81', '85', '19'])
}

const INVALID_VALUES = ['12345', 'n/a', '+1 555', '000 000 0000', 'call me', '+44 123', '555-CALL-NOW', '+49 (0)', '99999999999999999', '-']

export function countryName(country: PhoneCountry): string {
  return COUNTRIES[country].countryName
}

export function generatePhone(r: Random, country: PhoneCountry, format: PhoneFormat): GeneratedPhone {
  const spec = COUNTRIES[country]
  const e164 = (nsn: string): string => `+${spec.callingCode}${nsn}`
  switch (format) {
    case 'missing':
      return { value: null, e164: null, mobile: false }
    case 'invalid':
      return { value: r.pick(INVALID_VALUES), e164: null, mobile: false }
    case 'landline': {
      const nsn = spec.landline(r)
      return { value: r.next() < 0.5 ? spec.national(nsn) : `+${spec.callingCode} ${spec.group(nsn)}`, e164: e164(nsn), mobile: false }
    }
    case 'legacy_mobile':
      if (spec.legacy) {
        const legacy = spec.legacy(r)
        return { value: legacy.value, e164: e164(legacy.nsn), mobile: true }
      }
      return generatePhone(r, country, 'national')
    default: {
      const nsn = spec.mobile(r)
      const value =
        format === 'e164'
          ? e164(nsn)
          : format === 'international'
            ? `+${spec.callingCode} ${spec.group(nsn)}`
            : format === 'idd00'
              ? `00${spec.callingCode} ${spec.group(nsn)}`
              : spec.national(nsn)
      return { value, e164: e164(nsn), mobile: true }
    }
  }
}
