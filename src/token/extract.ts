import type { AuthRequest } from '../request/auth-request.js'
import type { TokenSource } from './source.js'

export type Extracted =
  | { readonly token: string; readonly source: TokenSource }
  | { readonly reason: 'token_missing' | 'token_malformed' }

const MISSING = Object.freeze({ reason: 'token_missing' } as const)
const MALFORMED = Object.freeze({ reason: 'token_malformed' } as const)
/** A JWT never contains these; a comma means Envoy merged two headers into one. */
const NOT_IN_TOKEN = /[\s,;]/

/**
 * Finds the caller's token. A token sent twice — two Authorization headers, two
 * `access_token` parameters, or in two different sources (header and query) — is ambiguous
 * and refused: which one a later hop reads is not ours to guess.
 */
export function extractToken(sources: readonly TokenSource[], req: AuthRequest): Extracted {
  let result: Extracted = MISSING
  for (const source of sources) {
    const found = fromSource(source, req)
    if (found === undefined) continue
    if (result !== MISSING || found === null || found === '' || NOT_IN_TOKEN.test(found))
      return MALFORMED
    result = { token: found, source }
  }
  return result
}

/** undefined: not in this source; null: there but ambiguous or undecodable. */
function fromSource(source: TokenSource, req: AuthRequest): string | null | undefined {
  switch (source.kind) {
    case 'header':
      return fromHeader(req.headers.get(source.name), source.prefix)
    case 'query':
      return fromQuery(req.query, source.name)
    case 'cookie':
      return fromCookies(req.headers.get('cookie'), source.name)
  }
}

function fromHeader(
  values: readonly string[] | undefined,
  prefix: string,
): string | null | undefined {
  if (values === undefined || values.length === 0) return undefined
  if (values.length > 1) return null
  const value = values[0]!.trim()
  if (prefix === '') return value
  // Another scheme (`Basic ...`) in the same header is not our token: treat as absent.
  if (value.length < prefix.length || value.slice(0, prefix.length).toLowerCase() !== prefix) {
    return prefix.trimEnd().length > 0 && value.toLowerCase() === prefix.trimEnd() ? '' : undefined
  }
  return value.slice(prefix.length).trim()
}

function fromQuery(query: string, name: string): string | null | undefined {
  if (query === '') return undefined
  let found: string | undefined
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    const key = eq === -1 ? pair : pair.slice(0, eq)
    if (key !== name) continue
    if (found !== undefined) return null
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1))
    if (value === null) return null
    found = value
  }
  return found
}

function decode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

function fromCookies(
  values: readonly string[] | undefined,
  name: string,
): string | null | undefined {
  if (values === undefined) return undefined
  let found: string | undefined
  for (const header of values) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq === -1 || part.slice(0, eq).trim() !== name) continue
      if (found !== undefined) return null
      found = part.slice(eq + 1).trim()
    }
  }
  return found
}
