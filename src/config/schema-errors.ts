import type { TSchema } from '@sinclair/typebox'
import { Value, type ValueError } from '@sinclair/typebox/value'
import { joinPath, type ConfigError } from './config-error.js'
import { nearestWord } from '../lib/nearest-word.js'
import { Duration } from './schema.js'
import { RATE_PATTERN, RATE_UNITS } from './budgets-schema.js'

/** Structural errors of `value` against `schema`, one per key, in the user's path notation. */
export function schemaErrors(schema: TSchema, value: unknown): ConfigError[] {
  const byPath = new Map<string, string>()
  for (const error of [...Value.Errors(schema, value)].flatMap(branchErrors)) {
    const path = readablePath(error.path, value)
    if (!byPath.has(path)) byPath.set(path, describe(error))
  }
  return [...byPath].map(([path, message]) => ({ path, message }))
}

/**
 * A value refused by a union (a header's `secret`: a name or a mapping) whose JSON type only
 * one branch takes is reported by that branch, so a typo inside the mapping is named where it
 * is, not as "expected string or object" on the whole value.
 */
function branchErrors(error: ValueError): ValueError[] {
  const branches = (error.schema as SchemaNode).anyOf
  if (branches === undefined) return [error]
  const type = jsonType(error.value)
  const matching = branches.flatMap((b, i) => (b.type === type ? [i] : []))
  if (matching.length !== 1 || error.errors[matching[0]!] === undefined) return [error]
  const inner = [...error.errors[matching[0]!]!].flatMap(branchErrors)
  return inner.length > 0 ? inner : [error]
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (v === null) return 'null'
  return typeof v === 'object' ? 'object' : typeof v
}

/** JSON pointer `/routes/1/rbac` -> `routes[1].rbac`, using the data to tell indexes from keys. */
function readablePath(pointer: string, root: unknown): string {
  let path = ''
  let node: unknown = root
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(node)) {
      path = joinPath(path, Number(key))
      node = node[Number(key)]
    } else {
      path = joinPath(path, key)
      node = isRecord(node) && Object.hasOwn(node, key) ? node[key] : undefined
    }
  }
  return path
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

type SchemaNode = TSchema & {
  anyOf?: TSchema[]
  pattern?: string
  properties?: Record<string, TSchema>
  patternProperties?: Record<string, TSchema>
}

function describe(error: ValueError): string {
  const schema = error.schema as SchemaNode
  if (error.message === 'Unexpected property') return unknownKey(error.path, schema)
  if (error.message === 'Expected required property') return 'required'
  if (schema.pattern === Duration.pattern) return 'expected a duration like 500ms, 30s, 10m, 24h'
  if (schema.pattern?.startsWith('^https?://')) return 'expected an http:// or https:// URL'
  if (schema.pattern === RATE_PATTERN)
    return `expected a rate like 60/minute (per ${RATE_UNITS.join(' | ')})`
  if (schema.anyOf !== undefined) {
    const literals = schema.anyOf.map((s) => (s as { const?: unknown }).const)
    if (literals.every((l) => typeof l === 'string')) {
      return `expected one of ${literals.join(' | ')}`
    }
    return `expected ${schema.anyOf.map((s) => String(s.type)).join(' or ')}`
  }
  return error.message.charAt(0).toLowerCase() + error.message.slice(1)
}

/**
 * An unexpected key in an object says which key was probably meant (or lists the keys when
 * there are few); in a map whose names follow a pattern (secrets, providers, header names),
 * it says the name is not allowed.
 */
function unknownKey(pointer: string, parent: SchemaNode): string {
  const typed = pointer
    .slice(pointer.lastIndexOf('/') + 1)
    .replace(/~1/g, '/')
    .replace(/~0/g, '~')
  if (parent.patternProperties !== undefined) {
    const [pattern] = Object.keys(parent.patternProperties)
    return `not an allowed name (expected ${pattern})`
  }
  const known = Object.keys(parent.properties ?? {})
  const near = nearestWord(typed, known)
  if (near !== undefined) return `unknown key; did you mean ${near}?`
  return known.length > 0 && known.length <= 12
    ? `unknown key (expected one of ${known.join(', ')})`
    : 'unknown key'
}

/** Fills schema defaults into a copy, so the caller's data is never mutated. */
export function withDefaults(schema: TSchema, value: unknown): unknown {
  const copy = structuredClone(value)
  return Value.Default(schema, copy)
}
