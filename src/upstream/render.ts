import type { JWTPayload } from 'jose'
import type { HeaderToSet } from '../decision/decision.js'
import { readClaim } from '../rbac/claim-path.js'
import type { RequestValues, RequestValueSource } from '../request/request-value.js'
import type { SecretStore } from '../secrets/store.js'
import { isHeaderValue } from './header-value.js'
import type { UpstreamPlan } from './plan.js'

/** Longer claim-derived values are dropped: upstreams and Envoy limit header sizes. */
const MAX_CLAIM_HEADER_BYTES = 8 * 1024

export interface RenderedUpstream {
  readonly set: readonly HeaderToSet[]
  readonly remove: readonly string[]
  readonly removeQuery: readonly string[]
  readonly tokenCookies: readonly string[]
  readonly tokenHeaders: readonly string[]
}

/**
 * Renders a route's upstream plan for one allowed request. A claim header whose claim is
 * absent (or not representable in a header) is removed instead of set, so a caller cannot
 * supply its own `x-user-id` by leaving the claim out of the token.
 */
export function renderUpstream(
  plan: UpstreamPlan,
  claims: JWTPayload | undefined,
  secrets: SecretStore,
  values?: RequestValues,
): RenderedUpstream {
  const set: HeaderToSet[] = []
  let remove = plan.remove
  for (const h of plan.headers) {
    if (h.kind === 'value') {
      set.push(h.header)
      continue
    }
    if (h.kind === 'secret') {
      set.push({ name: h.name, value: h.prefix + secrets.value(h.secret) })
      continue
    }
    const value = h.kind === 'claim' ? claimValue(claims, h.path) : requestValue(values, h.source)
    const prefix = h.kind === 'claim' ? h.prefix : ''
    if (value !== undefined) set.push({ name: h.name, value: prefix + value })
    else remove = remove === plan.remove ? [...plan.remove, h.name] : [...remove, h.name]
  }
  return {
    set,
    remove,
    removeQuery: plan.removeQuery,
    tokenCookies: plan.tokenCookies,
    tokenHeaders: plan.tokenHeaders,
  }
}

function claimValue(claims: JWTPayload | undefined, path: readonly string[]): string | undefined {
  return claims === undefined ? undefined : claimHeaderValue(readClaim(claims, path))
}

function requestValue(
  values: RequestValues | undefined,
  source: RequestValueSource,
): string | undefined {
  const read = values?.read(source)
  return read?.ok === true ? claimHeaderValue(read.value) : undefined
}

/**
 * Arrays are comma-joined (RFC 9110 list syntax) — what Envoy's claim_to_headers and Istio's
 * outputClaimToHeaders refuse to do (envoy#30072, istio#58433); objects become JSON.
 */
export function claimHeaderValue(claim: unknown): string | undefined {
  let text: string
  if (typeof claim === 'string') text = claim
  else if (typeof claim === 'number' || typeof claim === 'boolean') text = String(claim)
  else if (Array.isArray(claim))
    text = claim
      .map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)))
      .join(',')
  else if (typeof claim === 'object' && claim !== null) text = JSON.stringify(claim)
  else return undefined
  if (text.length > MAX_CLAIM_HEADER_BYTES || !isHeaderValue(text)) return undefined
  return text
}
