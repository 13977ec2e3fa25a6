import type { Struct, StructValue } from './types.js'

/** Deeper claims are cut: metadata is for access logs and rate limits, not whole documents. */
const MAX_DEPTH = 32

/** Plain JSON-like data -> google.protobuf.Struct in proto-loader's object form. */
export function toStruct(obj: Readonly<Record<string, unknown>>, depth = 0): Struct {
  const fields: Record<string, StructValue> = {}
  for (const key of Object.keys(obj)) {
    const value = toValue(obj[key], depth + 1)
    if (value !== undefined) fields[key] = value
  }
  return { fields }
}

function toValue(v: unknown, depth: number): StructValue | undefined {
  if (v === null) return { nullValue: 0 }
  switch (typeof v) {
    case 'string':
      return { stringValue: v }
    case 'number':
      return Number.isFinite(v) ? { numberValue: v } : { stringValue: String(v) }
    case 'boolean':
      return { boolValue: v }
    case 'object':
      if (depth > MAX_DEPTH) return undefined
      if (Array.isArray(v)) {
        return {
          listValue: { values: v.map((item) => toValue(item, depth + 1) ?? { nullValue: 0 }) },
        }
      }
      return { structValue: toStruct(v as Record<string, unknown>, depth) }
    default:
      return undefined
  }
}

/** google.protobuf.Struct -> plain data (the inverse of toStruct; used by the CLI and tests). */
export function fromStruct(s: Struct): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(s.fields ?? {})) out[key] = fromValue(value)
  return out
}

function fromValue(v: StructValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.numberValue !== undefined) return v.numberValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.structValue !== undefined) return fromStruct(v.structValue)
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(fromValue)
  return null
}
